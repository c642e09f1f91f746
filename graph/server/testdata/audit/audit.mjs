// Runs every graphql-http server audit (GraphQL-over-HTTP spec conformance) against the endpoint
// given as the first argument, e.g. `node audit.mjs http://127.0.0.1:8080/graphql`.
// Every audit must be ok: MUST (error), SHOULD (warn) and MAY (notice) failures all count.
// Exits 0 when all pass, 1 when any fails, 2 on bad usage or when the 60 s budget runs out.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

// The budget: every request is aborted when it runs out, and the remaining audits are not run. The timer
// is a backstop for a hang outside fetch.
const budgetMs = 60_000;
const deadline = AbortSignal.timeout(budgetMs);
const giveUp = setTimeout(() => {
  console.log(`gave up: the audits did not finish within ${budgetMs / 1000} s`);
  process.exit(2);
}, budgetMs + 5_000);

// RecordedResponse keeps its body as text, so a failure can print it even after the audit read it.
class RecordedResponse extends Response {
  constructor(text, init) {
    super(text, init);
    this.recordedBody = text;
  }
  clone() {
    return new RecordedResponse(this.recordedBody, this);
  }
}

// fetchFn bounds every request by the overall deadline and buffers the answer's body.
async function fetchFn(input, init = {}) {
  const res = await fetch(input, { ...init, signal: deadline });
  const text = await res.text();
  const nullBody = [101, 204, 205, 304].includes(res.status);
  return new RecordedResponse(nullBody ? null : text, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

let passed = 0;
let failed = 0;
const audits = serverAudits({ url, fetchFn });
for (const [i, audit] of audits.entries()) {
  if (deadline.aborted) {
    failed += audits.length - i;
    console.log(`gave up: ${budgetMs / 1000} s passed with ${audits.length - i} audits not run`);
    break;
  }
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    // graphql-http rethrows anything that is not an assertion failure (e.g. a refused connection).
    result = { id: audit.id, name: audit.name, status: 'error', reason: `fatal: ${err?.message ?? err}${err?.cause ? ` (${err.cause.message ?? err.cause})` : ''}` };
  }
  if (result.status === 'ok') {
    passed++;
    console.log(`ok    ${result.id} ${result.name}`);
    continue;
  }
  failed++;
  console.log(`${result.status.padEnd(5)} ${result.id} ${result.name}`);
  console.log(`      reason: ${result.reason}`);
  const res = result.response;
  if (res) {
    console.log(`      response: ${res.status} ${res.headers.get('content-type') ?? '(no content-type)'}`);
    const body = res.recordedBody ?? (res.bodyUsed ? '(body already read)' : await res.text().catch(() => '(unreadable body)'));
    console.log(`      body: ${body ?? '(none)'}`);
  }
}
clearTimeout(giveUp);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : deadline.aborted ? 2 : 1);
