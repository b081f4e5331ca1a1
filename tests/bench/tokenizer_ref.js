// The peer for bench_tokenizer: Hugging Face tokenizers — the Rust library through its Node
// binding (npm `tokenizers`, installed by tests/tokenizer/fetch.sh --reference) — encoding
// the same ~64 kB chunks one at a time (no batching, so one thread encodes).
//   RAYON_NUM_THREADS=1 node tokenizer_ref.js REF_MODULE_DIR TOKENIZER.json TEXT_FILE [RUNS]
'use strict';
const fs = require('fs');
const [modDir, tokFile, textFile, runsArg] = process.argv.slice(2);
const { Tokenizer } = require(modDir);
const runs = Number(runsArg || 3);
const chunkSize = Number(process.env.CHUNK || 65536);
const batch = process.env.BATCH === '1';
(async () => {
    let t0 = process.hrtime.bigint();
    const tok = Tokenizer.fromFile(tokFile);
    const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
    const buf = fs.readFileSync(textFile);
    const chunks = [];
    for (let off = 0; off < buf.length;) {
        let end = Math.min(off + chunkSize, buf.length);
        while (end < buf.length && buf[end - 1] !== 0x0a) end++;
        chunks.push(buf.subarray(off, end).toString('utf8'));
        off = end;
    }
    for (let r = -1; r < runs; r++) {
        let sum = 0, ntok = 0;
        t0 = process.hrtime.bigint();
        const encs = batch ? await tok.encodeBatch(chunks, { addSpecialTokens: false }) : null;
        for (let i = 0; i < chunks.length; i++) {
            const e = batch ? encs[i] : await tok.encode(chunks[i], null, { addSpecialTokens: false });
            const ids = e.getIds();
            for (const id of ids) sum = (sum * 31 + id) % 1000000007;
            ntok += ids.length;
        }
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        if (r >= 0)
            console.log(`RESULT hf-tokenizers run=${r} MB/s=${(buf.length / dt / 1e6).toFixed(2)} tokens=${ntok} ` +
                        `checksum=${sum} seconds=${dt.toFixed(3)} load_s=${loadS.toFixed(2)}`);
    }
})();
