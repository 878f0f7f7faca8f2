// A tiny event queue: schedule callbacks by time, run them in order.
"use strict";

class EventQueue {
  constructor() {
    this.items = [];
    this.now = 0;
  }

  schedule(delay, name, callback) {
    const at = this.now + Math.max(0, delay);
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].at > at) i--;
    this.items.splice(i, 0, { at, name, callback });
    return at;
  }

  runUntil(limit) {
    const done = [];
    while (this.items.length > 0 && this.items[0].at <= limit) {
      const event = this.items.shift();
      this.now = event.at;
      event.callback(this);
      done.push(`${event.at.toFixed(1)} ${event.name}`);
    }
    this.now = limit;
    return done;
  }
}

const queue = new EventQueue();
queue.schedule(5, "tick", (q) => q.schedule(5, "tock", () => {}));
queue.schedule(2, "hello", () => console.log("hello"));
for (const line of queue.runUntil(20)) console.log(line);
