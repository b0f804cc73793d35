// A JS tracer for anvil's debug_traceTransaction / debug_traceCall (geth's JS tracer API).
// For every frame it records which program counters ran and, at each JUMPI, which way it went
// (bit 1: fell through, bit 2: jumped). Frames are keyed by address, or "init:" + address
// while a constructor runs (the account has no code yet); constructor frames also carry their
// input, which is the init code the report identifies the contract by.
{
  frames: {},
  depth: 0,
  cur: null,
  step: function (log, db) {
    var d = log.getDepth();
    if (d !== this.depth || this.cur === null) {
      var address = log.contract.getAddress();
      var creating = db.getCode(address).length === 0;
      var key = (creating ? "init:" : "") + toHex(address);
      if (!(key in this.frames)) {
        this.frames[key] = { pcs: {}, jumps: {}, input: creating ? toHex(log.contract.getInput()) : "" };
      }
      this.cur = this.frames[key];
      this.depth = d;
    }
    var pc = log.getPC();
    this.cur.pcs[pc] = 1;
    if (log.op.toNumber() === 0x57) {
      this.cur.jumps[pc] = (this.cur.jumps[pc] || 0) | (log.stack.peek(1) == 0 ? 1 : 2);
    }
  },
  fault: function (log, db) {},
  result: function (ctx, db) {
    var out = {};
    for (var key in this.frames) {
      var f = this.frames[key];
      out[key] = { pcs: Object.keys(f.pcs).map(Number), jumps: f.jumps, input: f.input };
    }
    return out;
  }
}
