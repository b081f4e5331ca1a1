// tunebench — golden token ids from the reference: Hugging Face `tokenizers` (the Rust
// library, through its Node binding from npm), for test_tokenizer_golden.c.
//
//   tests/tokenizer/fetch.sh --reference
//   node tests/tokenizer/gen_golden.js            # writes tests/tokenizer/golden/*.golden
//
// Texts are byte strings (some are not valid UTF-8). The reference takes strings, so each
// text is decoded as WHATWG / Rust from_utf8_lossy do (U+FFFD per maximal invalid
// subsequence): that is the behaviour tunebench defines for invalid input.
'use strict';
const fs = require('fs');
const path = require('path');

const here = __dirname;
const cache = process.env.TB_TOKENIZER_CACHE || path.join(here, '.cache');
const { Tokenizer } = require(path.join(cache, 'ref', 'node_modules', 'tokenizers'));
const refVersion = require(path.join(cache, 'ref', 'node_modules', 'tokenizers', 'package.json')).version;

const B = (s) => Buffer.from(s, 'utf8');
const X = (hex) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : B(p))));

// A deterministic pseudo-random base64-like string (xorshift32).
function noise(n, seed) {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let x = seed >>> 0, s = '';
    for (let i = 0; i < n; i++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        s += abc[x % 64];
    }
    return s;
}

const paragraph =
    'Fine-tuning adapts a pretrained language model to a narrower task. Low-rank adaptation ' +
    'freezes the base weights and trains two small matrices per targeted projection, so the ' +
    'optimizer state stays small. The learning rate, the rank and the number of epochs matter ' +
    'more than most other settings; validate the data before spending compute on it.\n';

const cases = [
    ['empty', B('')],
    ['space', B(' ')],
    ['english', B('The quick brown fox jumps over the lazy dog.')],
    ['contractions', B("I'm sure you'll see it's what they've done; we'd've said 'no'. DON'T SHOUT, Y'ALL'D")],
    ['code_c', B('int main(void)\n{\n\tfor (int i = 0; i < 10; i++) {\n\t\tprintf("%d\\n", i * 2);\n\t}\n\treturn 0;\n}\n')],
    ['code_py', B('def f(x):\n    """Doc."""\n    if x>=0x1F: return [a**2 for a in range(x)]\n    return {\'k\': None}  # comment\n')],
    ['numbers', B('3.14159 1,234,567 12345678901234567890 0x1F 2024-06-01 -42 +7 1e-10 ½ ² ٣٤٥ ①②')],
    ['digits_groups', B('1 12 123 1234 12345 123456 1234567 a1b22c333d4444')],
    ['whitespace_runs', B('a  b   c    d\t\te\n\n\nf \n g   \n\n  ')],
    ['leading_trailing', B('   leading and trailing   ')],
    ['crlf', B('line one\r\nline two\r\n\r\nline four\r\n\rend')],
    ['emoji', B('Emoji: 😀👍🏽👨‍👩‍👧‍👦 🇫🇷 ❤️ done')],
    ['cjk', B('日本語のテキストと中文文本，还有한국어 텍스트。')],
    ['scripts', B('Ελληνικά, русский, עברית, العربية, हिन्दी, ไทย')],
    ['accents_nfc', B('café naïve résumé cafe\u0301 A\u030a \u212b ﬁ ｆｕｌｌ')],
    ['unicode_spaces', B('a\u00a0b\u2003c\u3000d\u200be\u2028f')],
    ['control', cat('a', X('00'), 'b', X('01'), 'c', X('7f'), 'd', X('1b'), '[0m')],
    ['invalid_utf8', cat('abc', X('ff fe'), ' def ', X('c3 28'), ' ', X('e2 82'), ' end ', X('f0 9f 98'))],
    ['invalid_surrogate', cat('x', X('ed a0 80'), 'y', X('c0 af'), 'z', X('f4 90 80 80'))],
    ['specials', B('<s>Hi</s> <|endoftext|><|im_start|>user\nhello<|im_end|>\n<|begin_of_text|>x<|eot_id|><|end_of_text|>')],
    ['special_like', B('<|im_start |> <s > <<s>> <|endoftext|<|endoftext|>|>')],
    ['added_options', B('<mask> My name <mask> A<mask> <mask>ony <mask>, Hi <mask> there\t<mask>\t<mask>\u2000 I read a book Yesterday  [SEP] x ony anthony ony')],
    ['markdown', B('## Title\n- [link](https://example.com/a_b?c=d&e=f#g)\n**bold** `code` ~~x~~\n> quote')],
    ['json', B('{"key": [1, 2.5, null, true], "k2": "v\\u00e9", "nested": {"a": []}}')],
    ['punctuation', B('!!!??? ... --- ===> <== ~~~ @#$%^&*() ¿¡ «»— “quotes” ‘single’')],
    ['long_word', B('a'.repeat(3000))],
    ['long_mixed', B('supercalifragilisticexpialidocious'.repeat(40))],
    ['long_noise', B(noise(6000, 12345))],
    ['long_spaces', B(' '.repeat(500) + 'x' + '\n'.repeat(300) + 'y' + '\t '.repeat(200))],
    ['paragraphs', B(paragraph.repeat(6))],
];

function lossy(buf) {
    return buf.toString('utf8');
}

async function golden(name, file) {
    const tok = Tokenizer.fromFile(file);
    const out = [];
    out.push('TBTOKGOLD 1');
    out.push(`# reference: npm tokenizers ${refVersion} (Hugging Face tokenizers, the Rust library, via napi)`);
    out.push('# regenerate: tests/tokenizer/fetch.sh --reference && node tests/tokenizer/gen_golden.js');
    out.push(`tokenizer ${name}`);
    for (const [cname, bytes] of cases) {
        const text = lossy(bytes);
        const plain = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
        const special = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
        const dec = await tok.decode(plain, false);
        const decskip = await tok.decode(special, true);
        out.push(`case ${cname}`);
        out.push(`text ${bytes.toString('hex')}`);
        out.push(`ids ${plain.join(' ')}`);
        out.push(`ids+ ${special.join(' ')}`);
        out.push(`dec ${Buffer.from(dec, 'utf8').toString('hex')}`);
        out.push(`decskip ${Buffer.from(decskip, 'utf8').toString('hex')}`);
        out.push('end');
    }
    fs.writeFileSync(path.join(here, 'golden', `${name}.golden`), out.join('\n') + '\n');
    console.log(`wrote golden/${name}.golden`);
}

(async () => {
    const names = fs.readdirSync(cache).filter((d) => fs.existsSync(path.join(cache, d, 'tokenizer.json')));
    for (const n of names.sort())
        await golden(n, path.join(cache, n, 'tokenizer.json'));
    // Committed tokenizers (made by tunebench tokenizer-train, or small hand-made ones).
    const data = path.join(here, 'data');
    if (fs.existsSync(data))
        for (const f of fs.readdirSync(data).filter((f) => f.endsWith('.json')).sort())
            await golden(path.basename(f, '.json'), path.join(data, f));
    // The bundled models' tokenizers (datasets/models/NAME/tokenizer.json).
    const models = path.join(here, '..', '..', 'datasets', 'models');
    if (fs.existsSync(models))
        for (const d of fs.readdirSync(models).sort())
            if (fs.existsSync(path.join(models, d, 'tokenizer.json')))
                await golden(d, path.join(models, d, 'tokenizer.json'));
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
