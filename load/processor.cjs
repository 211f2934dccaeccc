// Builds one request body of realistic events for the Artillery scenario (load/ingest.yml), and
// counts the responses that were not 2xx.
// Plain CommonJS: Artillery loads it directly. LOAD_BATCH sets the events per request (default 100).
const { randomUUID } = require('node:crypto');

const TYPES = ['page_view', 'page_view', 'page_view', 'click', 'click', 'search', 'add_to_cart', 'purchase'];
const PATHS = ['/', '/pricing', '/docs', '/blog', '/checkout', '/account'];

/** A user drawn with a Zipf-like skew over 5,000 users, so top users exist. */
function user() {
  return `user_${Math.floor(5000 ** Math.random())}`;
}

function makeBatch(context, _events, done) {
  const size = Number(process.env.LOAD_BATCH || 100);
  const now = Date.now();
  const events = [];
  for (let i = 0; i < size; i++) {
    const type = TYPES[Math.floor(Math.random() * TYPES.length)];
    events.push({
      event_id: randomUUID(),
      user_id: user(),
      type,
      timestamp: now,
      metadata: { path: PATHS[Math.floor(Math.random() * PATHS.length)], session: randomUUID().slice(0, 8) },
    });
  }
  context.vars.body = JSON.stringify({ events });
  return done();
}

/**
 * Counts every response other than 2xx, in total and by status, so the run's checks (ingest.yml)
 * fail when the API refuses requests: a run of 401s or 429s measured nothing.
 */
function countRefusals(_request, response, _context, events, next) {
  if (response.statusCode < 200 || response.statusCode > 299) {
    events.emit('counter', 'firehose.not_2xx', 1);
    events.emit('counter', `firehose.status_${response.statusCode}`, 1);
  }
  return next();
}

module.exports = { makeBatch, countRefusals };
