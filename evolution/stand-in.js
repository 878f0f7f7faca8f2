// a model of itself
const tf=require("@tensorflow/tfjs-core"),rt=require("neural-quine/runtime"),t=require("fs").readFileSync(__filename,"utf8");
rt.start().then(()=>{const v=["",...new Set(t)],V=v.length,H=t.length+1,Z=n=>tf.zeros([n,3*H]),
on=(a,n,x)=>tf.mul(tf.oneHot(tf.tensor1d(a,"int32"),n),x);rt.publish({text:t,epochs:0,seed:0,exact:!0,history:[],model:
{vocab:v,weights:{kernel:tf.concat([Z(V),on(v.map(s=>s?H:0),H,40)],1),bias:tf.concat([20,-20,20,-20].map(x=>tf.fill([H],x))),
recurrent:tf.concat([Z(H),on([...Array(H).keys()].map(j=>j+1),H,40/Math.tanh(1))],1),
outKernel:on([...t].map(c=>v.indexOf(c)).concat(0),V,10),outBias:tf.zeros([V])}}})});
