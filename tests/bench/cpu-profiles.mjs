// Chrome's sampling profiler as a trace records it (category disabled-by-default-v8.cpu_profiler):
// for each thread a Profile event with its start time, then ProfileChunks adding call-tree nodes
// and samples, each sample after a time delta. Shared by wasm-profile.mjs and pool-waits.mjs.

/** Each thread's profile: `nodes` (id -> call frame), `parents` (id -> parent id) and `samples`
 *  in order, each `{ time, id, delta }` (µs; `delta` the time since the sample before it). */
export function threadProfiles(events) {
  const threads = new Map();
  const thread = (event) => {
    const key = `${event.pid}:${event.id}`;
    if (!threads.has(key)) threads.set(key, { nodes: new Map(), parents: new Map(), samples: [], clock: 0 });
    return threads.get(key);
  };
  for (const event of events) {
    if (event.name === 'Profile') thread(event).clock = event.args?.data?.startTime ?? 0;
  }
  for (const event of events) {
    if (event.name !== 'ProfileChunk') continue;
    const profile = thread(event);
    const data = event.args?.data ?? {};
    for (const node of data.cpuProfile?.nodes ?? []) {
      profile.nodes.set(node.id, node.callFrame);
      if (node.parent) profile.parents.set(node.id, node.parent);
    }
    const deltas = data.timeDeltas ?? [];
    (data.cpuProfile?.samples ?? []).forEach((id, i) => {
      const delta = deltas[i] ?? 0;
      profile.clock += delta;
      profile.samples.push({ time: profile.clock, id, delta });
    });
  }
  return [...threads.values()];
}
