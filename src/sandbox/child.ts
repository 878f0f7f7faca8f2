// The sandbox's child process (see ./run): runs one untrusted program, inside a vm2 NodeVM (the
// inner wall) or, in the test mode that checks the outer wall alone, in this process's own realm.
// The parent starts it from dist/ behind the outer wall (namespaces, an unprivileged user, Node's
// permission model, a heap limit, an empty environment). It talks to the parent over the IPC
// channel only, with the messages of ./messages.
// Usage (by the parent only): node <flags> child.js <program.js> <backend> <vm2|node>
import { readFileSync } from "node:fs";
import { Module } from "node:module";
import { dirname, resolve } from "node:path";
import { format } from "node:util";
import { runInThisContext } from "node:vm";
import * as tf from "@tensorflow/tfjs-core";
import { NodeVM, VMScript } from "vm2";
import * as runtime from "../runtime";
import type { Publication, QuineModel } from "../runtime";
import { EpochSchema } from "../runtime/epoch";
import { check } from "../files/json";
import { FLOOD_REASON, MESSAGES_PER_SECOND, type ChildMessage } from "./messages";
import { errorMessage } from "../format";

/** The modules a program may require; everything else is forbidden. */
const ALLOWED_MODULES = ["fs", "@tensorflow/tfjs-core", "neural-quine/runtime"];

let finished = false; // a result or a death has been sent: nothing else may follow

function send(message: ChildMessage): Promise<void> {
  return new Promise((done) => {
    if (!process.send) throw new Error("src/sandbox/child runs only as the sandbox's child process, with an IPC channel.");
    process.send(message, () => done());
  });
}

/** Reports the program dead with one sentence and ends this process. */
function die(reason: string): void {
  if (finished) return;
  finished = true;
  void send({ type: "dead", reason }).finally(() => process.exit(1));
}

function forbidden(what: string): () => never {
  return () => {
    throw new Error(`forbidden: ${what}.`);
  };
}

/** First line of a message, trimmed and capped: reasons are one sentence, not a stack. */
function firstLine(text: string): string {
  const line = text.split("\n")[0].trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Why a thrown value ended the program, as one sentence. */
function reasonFor(error: unknown): string {
  // Reading a sandbox object's fields can run the program's own getters: guard, so no throw escapes.
  let name = "a value";
  let message: string;
  try {
    if (error instanceof Error) {
      name = error.name;
      message = error.message;
    } else message = String(error);
  } catch {
    message = "(an unprintable value)";
  }
  message = firstLine(message);
  const module = /^Cannot find module '(.*)'/.exec(message);
  if (module) return `forbidden: require("${module[1]}"); a program may require only ${ALLOWED_MODULES.join(", ")}.`;
  if (name === "EvalError" && /code generation from strings/i.test(message)) return "forbidden: eval or new Function (code generation from strings).";
  if (/^forbidden:/.test(message)) return message;
  if (/ERR_ACCESS_DENIED|Access to this API has been restricted/.test(message)) return `forbidden: ${message} (stopped by Node's permission model).`;
  return `threw ${name === "a value" ? name : `${name}`}: ${message}`;
}

/** `fs` inside the sandbox: readFileSync of the program's own file, and nothing else. */
function fsStub(programPath: string, text: string): Record<string, unknown> {
  const stub: Record<string, unknown> = {};
  for (const name of Object.keys(require("node:fs") as object)) stub[name] = forbidden(`fs.${name} (a program may only read its own file)`);
  stub.readFileSync = (path: unknown, options?: unknown): string | Buffer => {
    if (typeof path !== "string" || resolve(path) !== programPath) {
      throw new Error(`forbidden: reading ${String(path)} (a program may only read its own file).`);
    }
    const encoding = typeof options === "string" ? options : (options as { encoding?: unknown } | undefined)?.encoding;
    return encoding ? text : Buffer.from(text, "utf8");
  };
  return stub;
}

/** The typed arrays a program may hand over, by name: made from a length (then filled) or from their bytes. */
const TYPED_ARRAYS: Record<string, { new (length: number): ArrayLike<number> & { [i: number]: number }; new (buffer: ArrayBuffer): unknown }> = {
  Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array,
};

/** The sandbox's side of its typed arrays' crossings (see sandboxSetup), once the sandbox is set up. */
let programArrays: ProgramArrays | undefined;

/**
 * A typed array from the sandbox's realm, copied into this one. vm2 hands host code such an array
 * as a proxy that no host check (`util.types.isTypedArray`) recognises: TensorFlow.js would take
 * it for a nested array and hang or misread it. A genuine one crosses in bulk, as a string its own
 * realm makes of its bytes (a proxy's element reads cost about 0.4 µs each); anything else that
 * says it is one is copied element by element. Plain arrays are copied the same way, one level.
 */
function hostCopy(value: unknown): unknown {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  const Typed = TYPED_ARRAYS[Object.prototype.toString.call(value).slice(8, -1)];
  if (Typed) {
    const bulk = programArrays?.encode(value);
    const Genuine = typeof bulk === "string" ? TYPED_ARRAYS[bulk.slice(0, bulk.indexOf(":"))] : undefined;
    if (typeof bulk === "string" && Genuine) {
      const bytes = Buffer.from(bulk.slice(bulk.indexOf(":") + 1), "latin1");
      return new Genuine(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    }
    const source = value as ArrayLike<number>;
    const copy = new Typed(source.length);
    for (let i = 0; i < copy.length; i++) copy[i] = source[i];
    return copy;
  }
  // Array.from, not value.map: the sandbox's own map would build a sandbox array again. Shapes
  // matter most: TensorFlow.js keeps them and reads them in every kernel.
  return Array.isArray(value) ? Array.from(value, hostCopy) : value;
}

/**
 * A module's functions (and those of its namespaces, one level down), with arguments copied by
 * hostCopy; with `methods`, also those of the plain objects of functions they return (the runtime's
 * trainer and stepper, whose methods take the program's arrays window after window).
 */
function withHostArguments(module: object, depth = 1, methods = false): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(module)) {
    // Constructors (Tensor, Variable...) and namespaces made of a class's statics (tf.train) stay as they are.
    const isPlainFunction = typeof value === "function" && /^[a-z]/.test(name) &&
      Object.getOwnPropertyNames(value).every((key) => ["length", "name", "prototype"].includes(key));
    if (isPlainFunction) {
      const call = (...args: unknown[]) => (value as (...a: unknown[]) => unknown)(...args.map(hostCopy));
      wrapped[name] = methods ? (...args: unknown[]) => withHostMethods(call(...args)) : call;
    } else if (typeof value === "object" && value !== null && !Array.isArray(value) && depth > 0) {
      wrapped[name] = withHostArguments(value, depth - 1, methods);
    } else wrapped[name] = value;
  }
  return wrapped;
}

/** A plain object's methods with arguments copied by hostCopy (see withHostArguments); anything else as it is. */
function withHostMethods(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  if (!Object.values(value).some((member) => typeof member === "function")) return value;
  return Object.fromEntries(Object.entries(value).map(([name, member]) =>
    [name, typeof member === "function" ? (...args: unknown[]) => (member as (...a: unknown[]) => unknown)(...args.map(hostCopy)) : member]));
}

/**
 * TensorFlow.js for the program: this process's own instance, minus what reaches past computing:
 * the environment (whose `global` is the host's globalThis), the engine and backends (the wasm
 * module underneath), fetch, file and network IO, and backend or platform registration.
 */
function tfForProgram(): Record<string, unknown> {
  const facade = withHostArguments(tf);
  const denied = ["env", "ENV", "engine", "backend", "io", "setPlatform", "registerBackend", "removeBackend", "findBackend",
    "findBackendFactory", "registerKernel", "unregisterKernel", "getKernel", "getKernelsForBackend", "registerGradient",
    "unregisterGradient", "getGradient", "Environment"];
  for (const name of denied) facade[name] = forbidden(`tf.${name} (a program may compute with TensorFlow.js, not reach its environment)`);
  facade.util = { ...(facade.util as object), fetch: forbidden("tf.util.fetch (network)") };
  return facade;
}

/**
 * Makes `tensor.dataSync()`, when the program itself calls it, return a typed array of the
 * program's own realm. vm2 hands the program a host array as a proxy whose every element read
 * costs about 0.4 µs, and the trainer reads every logit of every pass: that made training in the
 * sandbox 3× slower than outside it. The data crosses instead as a string (a primitive, which vm2
 * passes as is) to `decode`, a function the sandbox set up before the program ran.
 * Calls from host code (TensorFlow.js itself, the runtime, collect) keep the host's own arrays.
 */
function programRealmData(programPath: string, { decode }: ProgramArrays): void {
  const hostDataSync = tf.Tensor.prototype.dataSync;
  // Whether the caller of dataSync, past vm2's bridge frames, is the program. Call sites, not the
  // stack's text: formatting the stack cost more than the check, and the runtime's kernels call
  // dataSync several times per window.
  const calledByProgram = (): boolean => {
    const [limit, prepare] = [Error.stackTraceLimit, Error.prepareStackTrace];
    Error.stackTraceLimit = 6;
    Error.prepareStackTrace = (_, sites) => sites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, programDataSync);
    const sites = holder.stack ?? [];
    [Error.stackTraceLimit, Error.prepareStackTrace] = [limit, prepare];
    for (const site of sites) {
      const file = site.getFileName() ?? "";
      if (!file.endsWith("/vm2/lib/bridge.js")) return file === programPath;
    }
    return false;
  };
  function programDataSync(this: tf.Tensor) {
    const data = hostDataSync.call(this);
    if (!(data instanceof Float32Array || data instanceof Int32Array) || !calledByProgram()) return data;
    return decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf16le"), data.constructor.name);
  }
  tf.Tensor.prototype.dataSync = programDataSync as typeof hostDataSync;
}

/** Copies what a program published into plain values of this realm, checking each field. */
async function collect(result: Publication, backend: string): Promise<ChildMessage> {
  if (typeof result !== "object" || result === null) throw new Error("publish needs an object {text, model, epochs, seed, exact, history}.");
  const { text, model, epochs, seed, exact, history } = result;
  if (typeof text !== "string") throw new Error("publish: text must be a string.");
  if (typeof model !== "object" || model === null || !Array.isArray(model.vocab)) throw new Error("publish: model must be {vocab, weights}.");
  if (typeof epochs !== "number" || typeof seed !== "number") throw new Error("publish: epochs and seed must be numbers.");
  const vocab = Array.from(model.vocab, (symbol) => String(symbol));
  const tensor = (name: keyof QuineModel["weights"], rank: 1 | 2): tf.Tensor => {
    const value: unknown = typeof model.weights === "object" && model.weights !== null ? Reflect.get(model.weights, name) : undefined;
    if (!(value instanceof tf.Tensor) || value.rank !== rank) throw new Error(`publish: model.weights.${name} is not a tensor of rank ${rank}.`);
    return value;
  };
  const weights = {
    kernel: tensor("kernel", 2) as tf.Tensor2D, recurrent: tensor("recurrent", 2) as tf.Tensor2D, bias: tensor("bias", 1) as tf.Tensor1D,
    outKernel: tensor("outKernel", 2) as tf.Tensor2D, outBias: tensor("outBias", 1) as tf.Tensor1D,
  };
  // The features its input reads (runtime/features.ts): named in the model files, checked there and again by the parent.
  const features: unknown = Reflect.get(model, "features");
  if (features !== undefined && (!Array.isArray(features) || features.length > 64)) throw new Error("publish: model.features must be a list of feature names.");
  const files = await runtime.modelFiles({ vocab, weights, ...(features === undefined ? {} : { features: Array.from(features, (name) => String(name)) }) });
  // JSON, not the objects themselves: the history lives in the sandbox's realm and cannot be cloned.
  const plainHistory = Array.isArray(history) ? (JSON.parse(JSON.stringify(history)) as unknown[]) : [];
  const kernel = { name: runtime.kernelName(), threads: runtime.kernelThreads() };
  return { type: "result", text, files, epochs, seed, exact: exact === true, history: plainHistory, backend, kernel, work: runtime.kernelWork() };
}

// vm2 swallows the rejections of promise chains built in the sandbox, so an error thrown in
// `rt.start().then(() => ...)` would end the program silently. The promise that start() returns
// keeps the last such error, to name it if the program then ends without publishing.
let lastRejection: { error: unknown } | undefined;

function watched<T>(promise: Promise<T>): Promise<T> {
  const then = promise.then.bind(promise);
  Object.defineProperty(promise, "then", {
    value: (onFulfilled?: (value: T) => unknown, onRejected?: (error: unknown) => unknown) => {
      const next = then(onFulfilled, onRejected);
      Promise.prototype.then.call(next, undefined, (error: unknown) => {
        lastRejection = { error };
      });
      return next;
    },
  });
  return promise;
}

/** The runtime a program gets: TensorFlow.js helpers as they are, with start, log, progress and publish talking to the parent. */
function runtimeFor(backend: string, { log, progress }: ProgramOutput): Record<string, unknown> {
  return {
    ...withHostArguments(runtime, 1, true),
    log,
    progress,
    start: () => {
      log(`backend: ${backend}`);
      return watched(Promise.resolve(backend));
    },
    publish: async (result: Publication) => {
      if (finished) return;
      try {
        const message = await collect(result, backend);
        if (finished) return;
        finished = true;
        await send(message);
        process.exit(0);
      } catch (error) {
        die(`publish failed: ${reasonFor(error).replace(/^threw \w+: (publish: )?/, "")}`);
      }
    },
    saveModel: forbidden("saveModel (a program's only way out is publish)"),
    loadModel: forbidden("loadModel (a program may only read its own file)"),
  };
}

/** What a program says as it runs: `log` a line of text, `progress` a training pass (a record); each to stderr and to the parent. */
interface ProgramOutput {
  log: (line: unknown) => void;
  progress: (record: unknown, positions: unknown) => void;
}

function programOutput(): ProgramOutput {
  const parent = process.ppid;
  let windowStart = Date.now();
  let linesInWindow = 0;
  const guard = (): void => {
    // Training runs synchronously, so "disconnect" cannot fire while it does; progress comes every
    // second or so, and a changed ppid means the parent died (kill -9): stop, don't train on.
    if (process.ppid !== parent) process.exit(1);
    // A flood in one synchronous loop would pile up here, unsent (the channel writes between turns
    // of the event loop): stop it at the source, and throw to break the loop.
    if (Date.now() - windowStart > 1000) [windowStart, linesInWindow] = [Date.now(), 0];
    if (++linesInWindow > MESSAGES_PER_SECOND) {
      die(FLOOD_REASON);
      throw new Error(FLOOD_REASON);
    }
  };
  return {
    log(line) {
      guard();
      const text = firstLine(String(line));
      process.stderr.write(`${text}\n`);
      void send({ type: "log", line: text });
    },
    progress(record, positions) {
      guard();
      const epoch = check(EpochSchema, record); // also copies the record out of the program's realm
      if (epoch.error !== undefined) {
        die(`rt.progress was given a bad record: ${epoch.error}.`);
        throw new Error("rt.progress was given a bad record.");
      }
      process.stderr.write(`${runtime.progressLine(epoch.data, Number(positions))}\n`);
      void send({ type: "progress", epoch: epoch.data });
    },
  };
}

/** How typed arrays cross between the program's realm and this one in bulk, as strings (primitives, which vm2 passes as they are). */
interface ProgramArrays {
  /** A Float32Array or Int32Array of the program's realm from its bytes, two to a character (utf16le). */
  decode: (bytes: string, type: string) => unknown;
  /** "Type:bytes" (latin1) for a genuine typed array of the program's realm, else undefined. */
  encode: (value: unknown) => string | undefined;
}

/**
 * Runs once in the vm2 sandbox before the program: no `process` (NodeVM's stand-in included) and no
 * network globals. It returns the crossings that programRealmData and hostCopy need, made of the
 * realm's own constructors and methods as they are before the program can change them. Written as
 * a function so it is type-checked and linted; vm2 runs its source text.
 */
function sandboxSetup(): ProgramArrays {
  "use strict";
  const deny = (what: string): PropertyDescriptor => ({
    get() {
      throw new Error(`forbidden: ${what}.`);
    },
    configurable: false,
  });
  Object.defineProperty(globalThis, "process", deny("process (a program has no access to the process or its environment)"));
  for (const name of ["fetch", "XMLHttpRequest", "WebSocket", "EventSource"]) Object.defineProperty(globalThis, name, deny(`${name} (network)`));
  const U8 = Uint8Array, U16 = Uint16Array, F32 = Float32Array, I32 = Int32Array;
  const call = Function.prototype.call;
  const charCodeAt = call.bind(String.prototype.charCodeAt) as (text: string, i: number) => number;
  const fromCharCodes = Function.prototype.apply.bind(String.fromCharCode) as (self: null, codes: Uint8Array) => string;
  const subarray = call.bind(U8.prototype.subarray) as (array: Uint8Array, from: number, to: number) => Uint8Array;
  // %TypedArray%.prototype's getters read internal slots: a fake typed array cannot pass them.
  const typedArrayPrototype = Object.getPrototypeOf(U8.prototype) as object;
  const getter = (key: PropertyKey) => call.bind(Object.getOwnPropertyDescriptor(typedArrayPrototype, key)?.get as () => unknown);
  const [tagOf, bufferOf, offsetOf, lengthOf] = [getter(Symbol.toStringTag), getter("buffer"), getter("byteOffset"), getter("byteLength")] as
    [(a: unknown) => string | undefined, (a: unknown) => ArrayBuffer, (a: unknown) => number, (a: unknown) => number];
  return {
    decode: (bytes, type) => {
      const b = new U16(bytes.length);
      for (let i = 0; i < bytes.length; i++) b[i] = charCodeAt(bytes, i);
      return type === "Int32Array" ? new I32(b.buffer) : new F32(b.buffer);
    },
    encode: (value) => {
      const type = tagOf(value);
      if (type === undefined) return undefined;
      const bytes = new U8(bufferOf(value), offsetOf(value), lengthOf(value));
      let text = `${type}:`;
      for (let i = 0; i < bytes.length; i += 8192) text += fromCharCodes(null, subarray(bytes, i, i + 8192));
      return text;
    },
  };
}

/**
 * The standard globals a program's loops look up (ECMAScript's own, nothing of Node's or the host's).
 * In a vm context every global lookup goes through Node's interceptors, about 30 times the cost
 * of a local variable's, and the trainer looks up Math and Infinity for every logit of every pass.
 */
const REALM_GLOBALS = ["Math", "Infinity", "NaN", "undefined", "Object", "Array", "Number", "String", "Boolean", "Symbol",
  "BigInt", "Date", "JSON", "Reflect", "Map", "Set", "WeakMap", "Promise", "Error", "TypeError", "RangeError", "RegExp",
  "ArrayBuffer", "DataView", "Float32Array", "Float64Array", "Int8Array", "Int16Array", "Int32Array", "Uint8Array",
  "Uint8ClampedArray", "Uint16Array", "Uint32Array", "parseInt", "parseFloat", "isNaN", "isFinite"];

/**
 * The program's text inside a function whose parameters are REALM_GLOBALS, handed the realm's own
 * values when it starts, so that its loops read locals. It gains nothing it did not have; the one
 * difference a program could see is that replacing such a global on globalThis later does not
 * change the name in its own code. The prefix takes no line (line numbers stay the program's),
 * the program's "use strict" stays the first statement of its own function, and its own
 * declarations (even `const Math`) live in an inner function of their own, so they cannot clash.
 */
function withLocalGlobals(text: string): string {
  const names = REALM_GLOBALS.join(", ");
  const body = text.startsWith("#!") ? `//${text.slice(2)}` : text; // as vm2 does with a shebang
  return `(function (${names}) { return (function () {${body}\n}).call(this); }).call(this, ${names});`;
}

/** The inner wall: the program runs in a vm2 NodeVM that offers only ALLOWED_MODULES. */
function runInVm2(programPath: string, text: string, runtimeForProgram: Record<string, unknown>, log: (line: unknown) => void): void {
  const vm = new NodeVM({
    console: "redirect",
    eval: false, // no code from strings: closes `constructor.constructor("...")` at the source
    wasm: false, // the program computes through TensorFlow.js, which has its own wasm outside
    require: {
      builtin: [],
      mock: { fs: fsStub(programPath, text), "@tensorflow/tfjs-core": tfForProgram(), "neural-quine/runtime": runtimeForProgram },
    },
  });
  for (const level of ["log", "info", "warn", "error", "debug", "trace", "dir"]) {
    // Objects and functions are not formatted: util.inspect would call their custom inspectors
    // (Symbol.for("nodejs.util.inspect.custom")) with host values as arguments.
    const plain = (a: unknown): unknown => (typeof a === "function" ? "[function]" : typeof a === "object" && a !== null ? "[object]" : a);
    vm.on(`console.${level}`, (...args: unknown[]) => log(format(...args.map(plain))));
  }
  programArrays = vm.run(`return (${sandboxSetup.toString()})();`, { filename: "sandbox-setup.js", wrapper: "none" }) as ProgramArrays;
  programRealmData(programPath, programArrays);
  let script: VMScript;
  try {
    new VMScript(text, programPath).compile(); // the program alone must parse, whatever the wrapper would make of it
    script = new VMScript(withLocalGlobals(text), programPath).compile();
  } catch (error) {
    return die(`does not parse: ${firstLine(errorMessage(error))}`);
  }
  watchTheEnd();
  try {
    vm.run(script, { filename: programPath });
  } catch (error) {
    die(reasonFor(error));
  }
}

/**
 * Without the inner wall (a test mode: the outer wall must hold alone): the program runs in this
 * process's own realm as a CommonJS module, with Node's real `require`, `process` and globals. Only
 * `neural-quine/runtime` is this sandbox's, so that a well-behaved program still publishes.
 */
function runInThisRealm(programPath: string, text: string, runtimeForProgram: Record<string, unknown>): void {
  let body: (...args: unknown[]) => void;
  try {
    body = runInThisContext(Module.wrap(text), { filename: programPath }) as typeof body;
  } catch (error) {
    return die(`does not parse: ${firstLine(errorMessage(error))}`);
  }
  const programRequire = (name: string): unknown => (name === "neural-quine/runtime" ? runtimeForProgram : require(name));
  const module = { exports: {} };
  watchTheEnd();
  try {
    body.call(module.exports, module.exports, programRequire, module, programPath, dirname(programPath));
  } catch (error) {
    die(reasonFor(error));
  }
}

/** Ends the run when the program throws late, or when the event loop runs dry without a publish. */
function watchTheEnd(): void {
  // TensorFlow.js's wasm backend (emscripten) rethrows every uncaught exception from a listener of
  // its own, which would end this process with exit code 7 instead of a reason: ours alone decide.
  process.removeAllListeners("uncaughtException");
  process.removeAllListeners("unhandledRejection");
  process.on("uncaughtException", (error) => die(reasonFor(error)));
  process.on("unhandledRejection", (error) => die(reasonFor(error)));
  process.on("beforeExit", () => die(lastRejection ? reasonFor(lastRejection.error) : "ended without publishing a result."));
  process.channel?.unref(); // the IPC channel alone must not keep a finished program alive
}

async function main(): Promise<void> {
  const [programArg, backendArg, realm] = process.argv.slice(2);
  const programPath = resolve(programArg);
  const text = readFileSync(programPath, "utf8");
  // The backend starts before the program does: a failure here is the harness's, said as such.
  let backend: string;
  try {
    backend = await runtime.initBackend(runtime.parseBackend(backendArg));
  } catch (error) {
    return die(`the ${backendArg} backend could not start: ${firstLine(errorMessage(error))}`);
  }
  // One thread for the kernel, whatever the walls: the permission model refuses worker threads, and
  // the test modes without it must train as a sandbox does. (The bits are the same on one or two.)
  runtime.setKernel("auto", 1);
  // Nothing in this process needs the network once the backend is up: take the easy door away too.
  delete (globalThis as { fetch?: unknown }).fetch;
  const output = programOutput();
  const runtimeForProgram = runtimeFor(backend, output);
  if (realm === "node") runInThisRealm(programPath, text, runtimeForProgram);
  else runInVm2(programPath, text, runtimeForProgram, output.log);
}

process.on("disconnect", () => process.exit(1)); // the parent is gone: nobody to report to
void main().catch((error: unknown) => die(`the sandbox failed: ${reasonFor(error)}`));
