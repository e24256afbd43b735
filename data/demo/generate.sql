-- description: deterministic, skewed rows for the demo blog schema
--
-- Run after schema.sql's tables exist, in one session, with three settings:
--   SET demo.users = 1000; SET demo.posts = 5000; SET demo.comments = 15000;
-- dbworkbench.datasets.load_demo does this per scale, one "-- step:" at a time,
-- in one transaction, with the tables' primary, unique and foreign keys and
-- indexes dropped until the rows are in (adding the foreign keys back checks
-- every reference; CHECK constraints check every row as it goes in).
--
-- Determinism: every "random" choice is pg_temp.u(n, salt), a hash of the
-- row number n and a per-column salt (hashint8extended, stable across server
-- versions and platforms), never random(). Ids are md5-derived UUIDs and all
-- timestamps are relative to a fixed anchor, so a scale gives the same rows on
-- every load and on every server.
--
-- Shape, as on a real site:
--   users     signups accelerate over five years; ~1% admins, ~2% moderators;
--             emails mostly lower-case, ~25% mixed or upper case
--             (John.Smith42@Example.com), so LOWER(email) lookups matter.
--   posts     a fifth of the users write, writer rank = floor(users/5 * u^3):
--             the top 1% of users write ~35% of posts, four in five users
--             write none; ~85% published, 7% archived, 8% drafts.
--   comments  post = floor(targets * u^4) over non-draft posts (low post
--             numbers are the popular ones and also get the most views);
--             about a fifth reply to one of the three previous comments on
--             the same post (parent_id), which builds nested threads.
--   text      English sentences from templates over a small vocabulary, so
--             full-text search and LIKE '%word%' find things.

-- step: vocabulary

CREATE FUNCTION pg_temp.u(n bigint, salt integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(n, salt) & 9007199254740991)::double precision / 9007199254740992 $$;

CREATE FUNCTION pg_temp.pick(n bigint, salt integer, size integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 1 + ((hashint8extended(n, salt) & 2147483647) % size)::integer $$;

CREATE FUNCTION pg_temp.anchor() RETURNS timestamp with time zone
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT '2025-06-01 12:00:00+00'::timestamp with time zone $$;

-- When user n of nu signed up: density grows linearly over five years.
-- (STABLE, not IMMUTABLE: timestamptz arithmetic is stable, and only a function
-- whose volatility matches its body is inlined into the calling query.)
CREATE FUNCTION pg_temp.user_created(n bigint, nu integer) RETURNS timestamp with time zone
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT pg_temp.anchor() - interval '1826 days'
             + sqrt((n - pg_temp.u(n, 8)) / nu) * interval '1826 days' $$;

CREATE TEMP TABLE _words (cls text, i integer, w text, PRIMARY KEY (cls, i));

INSERT INTO _words (cls, i, w)
SELECT 'det', i, w FROM unnest(ARRAY[
    'the', 'this', 'that', 'every', 'each', 'our', 'your', 'my', 'one', 'some',
    'another', 'their']) WITH ORDINALITY AS t(w, i)
UNION ALL
SELECT 'adj', i, w FROM unnest(ARRAY[
    'slow', 'fast', 'large', 'small', 'simple', 'complex', 'hidden', 'missing',
    'partial', 'composite', 'unique', 'stale', 'busy', 'quiet', 'careful',
    'naive', 'expensive', 'cheap', 'nested', 'sorted', 'random', 'sequential',
    'parallel', 'modern', 'legacy', 'reliable', 'fragile', 'clever', 'obvious',
    'subtle', 'useful', 'critical', 'frequent', 'rare', 'global', 'local',
    'temporary', 'permanent', 'hot', 'cold', 'heavy', 'light', 'steady',
    'sudden', 'clean', 'messy', 'healthy', 'bloated', 'tiny', 'huge', 'old',
    'new', 'strange', 'quick', 'lazy', 'happy', 'noisy', 'friendly', 'secure',
    'broken']) WITH ORDINALITY AS t(w, i)
UNION ALL
SELECT 'noun', i, w FROM unnest(ARRAY[
    'query', 'index', 'table', 'planner', 'server', 'database', 'column', 'row',
    'cache', 'buffer', 'lock', 'transaction', 'replica', 'schema', 'migration',
    'backup', 'user', 'post', 'comment', 'developer', 'engineer', 'team',
    'customer', 'dashboard', 'report', 'statement', 'join', 'scan', 'vacuum',
    'checkpoint', 'connection', 'pool', 'cluster', 'partition', 'function',
    'trigger', 'constraint', 'key', 'value', 'page', 'disk', 'memory',
    'network', 'latency', 'workload', 'deadline', 'garden', 'kitchen', 'coffee',
    'morning', 'weekend', 'journey', 'mountain', 'river', 'city', 'book',
    'story', 'music', 'camera', 'recipe', 'bicycle', 'window', 'project',
    'feature', 'release', 'bug', 'test', 'incident', 'metric', 'graph',
    'budget', 'plan', 'library', 'framework', 'keyboard', 'laptop', 'editor',
    'language', 'compiler', 'service', 'queue', 'request', 'response',
    'upgrade', 'outage', 'sandwich', 'holiday', 'forest', 'ocean', 'winter',
    'summer', 'painting', 'garage', 'podcast', 'newsletter', 'startup',
    'interview', 'meeting', 'habit', 'routine']) WITH ORDINALITY AS t(w, i)
UNION ALL
-- base forms; the third person ("v3") is the word plus "s"
SELECT 'verb', i, w FROM unnest(ARRAY[
    'improve', 'reduce', 'slow', 'speed', 'scan', 'join', 'sort', 'cache',
    'load', 'store', 'read', 'write', 'tune', 'measure', 'track', 'build',
    'break', 'change', 'explain', 'find', 'help', 'keep', 'make', 'need',
    'show', 'lock', 'block', 'return', 'skip', 'filter', 'update', 'insert',
    'delete', 'select', 'rewrite', 'split', 'merge', 'count', 'ignore',
    'follow', 'drop', 'create', 'replace', 'double', 'hide', 'reveal', 'love',
    'hate', 'plan', 'test', 'ship', 'deploy', 'monitor', 'review', 'share',
    'cook', 'paint', 'visit', 'learn', 'forget']) WITH ORDINALITY AS t(w, i)
UNION ALL
SELECT 'adv', i, w FROM unnest(ARRAY[
    'quickly', 'slowly', 'quietly', 'suddenly', 'rarely', 'often', 'always',
    'never', 'usually', 'carefully', 'finally', 'really', 'simply', 'clearly',
    'badly', 'nearly', 'happily', 'eventually']) WITH ORDINALITY AS t(w, i)
UNION ALL
SELECT 'prep', i, w FROM unnest(ARRAY[
    'in', 'on', 'with', 'without', 'for', 'after', 'before', 'during', 'under',
    'over', 'behind', 'inside', 'across', 'near', 'from', 'about'])
    WITH ORDINALITY AS t(w, i)
UNION ALL
SELECT 'num', i, w FROM unnest(ARRAY[
    '3', '5', '7', '10', '12', '15', '20', '25']) WITH ORDINALITY AS t(w, i);

INSERT INTO _words (cls, i, w) SELECT 'v3', i, w || 's' FROM _words WHERE cls = 'verb';

CREATE TEMP TABLE _class_size AS SELECT cls, count(*)::integer AS n FROM _words GROUP BY cls;

-- Templates: ":class" picks a word of that class, anything else is literal.
CREATE TEMP TABLE _templates (kind text, i integer, toks text[], endp text);

INSERT INTO _templates (kind, i, toks, endp)
SELECT 'sentence', i, string_to_array(t, ' '), e FROM (VALUES
    (1, ':det :adj :noun :v3 :det :noun', '.'),
    (2, ':det :noun :adv :v3 :det :adj :noun :prep :det :noun', '.'),
    (3, 'why does :det :noun :verb :det :adj :noun', '?'),
    (4, 'we :verb :det :adj :noun :prep :det :noun :adv', '.'),
    (5, ':det :adj :noun :prep :det :noun :v3 :det :noun', '.'),
    (6, 'you can :verb :det :noun :prep :det :adj :noun', '.'),
    (7, ':det :noun and :det :noun :verb :det :adj :noun', '.'),
    (8, 'never :verb :det :adj :noun :prep :det :noun', '.'),
    (9, 'i :adv :verb :det :noun :prep :det :adj :noun', '.'),
    (10, 'how do you :verb :det :adj :noun', '?'),
    (11, ':det :noun :v3 :adv :prep :det :adj :noun', '.'),
    (12, 'it is :adj to :verb :det :noun :prep :det :noun', '.')
) AS v(i, t, e)
UNION ALL
SELECT 'title', i, string_to_array(t, ' '), '' FROM (VALUES
    (1, 'how to :verb the :adj :noun'),
    (2, ':num :adj ways to :verb your :noun'),
    (3, 'understanding :adj :noun :noun'),
    (4, 'a guide to :adj :noun :prep the :noun'),
    (5, 'why your :noun :v3 :adv'),
    (6, ':adj :noun and :adj :noun'),
    (7, 'what we learned from the :adj :noun'),
    (8, 'when the :noun :v3 the :noun'),
    (9, 'notes on :adj :noun :noun'),
    (10, 'stop trying to :verb every :noun'),
    (11, 'the :adj :noun :prep :det :noun'),
    (12, ':num lessons from a :adj :noun')
) AS v(i, t);

-- Fill template number (hash of n) for each n in 1..count.
CREATE FUNCTION pg_temp.fill(kind text, count integer, salt integer)
RETURNS TABLE (n integer, txt text)
LANGUAGE sql STABLE
AS $$
    SELECT s.n, string_agg(coalesce(w.w, k.tok), ' ' ORDER BY k.pos) || max(t.endp)
    FROM generate_series(1, count) AS s(n)
    JOIN _templates AS t
      ON t.kind = fill.kind
     AND t.i = pg_temp.pick(s.n, salt, (SELECT count(*)::integer FROM _templates AS x WHERE x.kind = fill.kind))
    CROSS JOIN LATERAL unnest(t.toks) WITH ORDINALITY AS k(tok, pos)
    LEFT JOIN _class_size AS cs ON k.tok LIKE ':%' AND cs.cls = substr(k.tok, 2)
    LEFT JOIN _words AS w
      ON w.cls = cs.cls AND w.i = pg_temp.pick(s.n * 64 + k.pos, salt + 1, cs.n)
    GROUP BY s.n
$$;

CREATE TEMP TABLE _sentences AS
SELECT n AS i, upper(left(txt, 1)) || substr(txt, 2) AS txt
FROM pg_temp.fill('sentence', 4000, 100);

CREATE TEMP TABLE _titles AS
SELECT n AS i, title, trim(BOTH '-' FROM regexp_replace(lower(title), '[^a-z0-9]+', '-', 'g')) AS slug
FROM (SELECT n, upper(left(txt, 1)) || substr(txt, 2) AS title
      FROM pg_temp.fill('title', 20000, 200)) AS t;

-- Paragraphs of 2 to 5 sentences, for post bodies.
CREATE TEMP TABLE _paragraphs AS
SELECT p.i, string_agg(s.txt, ' ' ORDER BY j.j) AS txt
FROM generate_series(1, 3000) AS p(i)
CROSS JOIN LATERAL generate_series(1, 2 + (pg_temp.pick(p.i, 300, 4) - 1)) AS j(j)
JOIN _sentences AS s ON s.i = pg_temp.pick(p.i * 8 + j.j, 301, 4000)
GROUP BY p.i;

-- Comment bodies: an optional opener and one or two sentences.
CREATE TEMP TABLE _comment_texts AS
SELECT c.i,
       concat_ws(' ',
           CASE WHEN pg_temp.u(c.i, 400) < 0.4
                THEN (ARRAY['Great post!', 'Thanks for sharing.', 'I disagree.',
                            'This helped a lot.', 'Interesting.', 'Nice write-up.',
                            'Has anyone tried this in production?', 'Exactly what I needed.',
                            'Not sure about this.', 'Bookmarked.', 'Good point.',
                            'Could you explain more?', 'We had the same problem.',
                            'Wow.', 'Thank you!', 'Same here.'])[pg_temp.pick(c.i, 401, 16)]
           END,
           s1.txt,
           CASE WHEN pg_temp.u(c.i, 402) < 0.35 THEN s2.txt END) AS txt
FROM generate_series(1, 4000) AS c(i)
JOIN _sentences AS s1 ON s1.i = pg_temp.pick(c.i, 403, 4000)
JOIN _sentences AS s2 ON s2.i = pg_temp.pick(c.i, 404, 4000);

CREATE TEMP TABLE _first_names AS
SELECT i::integer, w FROM unnest(ARRAY[
    'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda',
    'William', 'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph',
    'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Daniel', 'Nancy', 'Matthew',
    'Lisa', 'Anthony', 'Betty', 'Mark', 'Margaret', 'Paul', 'Sandra', 'Steven',
    'Ashley', 'Andrew', 'Emily', 'Kenneth', 'Donna', 'Joshua', 'Michelle', 'Kevin',
    'Carol', 'Brian', 'Amanda', 'George', 'Melissa', 'Timothy', 'Deborah', 'Ronald',
    'Laura', 'Jason', 'Rebecca', 'Ryan', 'Sharon', 'Jacob', 'Cynthia', 'Gary',
    'Kathleen', 'Nicholas', 'Amy', 'Eric', 'Angela', 'Wei', 'Priya', 'Ahmed',
    'Yuki', 'Olga', 'Carlos', 'Fatima', 'Lars', 'Chloe', 'Mateo']) WITH ORDINALITY AS t(w, i);

CREATE TEMP TABLE _last_names AS
SELECT i::integer, w FROM unnest(ARRAY[
    'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis',
    'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson',
    'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson',
    'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker',
    'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill',
    'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell',
    'Mitchell', 'Carter', 'Roberts', 'Chen', 'Kumar', 'Singh', 'Tanaka', 'Ivanova',
    'Silva', 'Khan', 'Larsen', 'Dubois', 'Rossi']) WITH ORDINALITY AS t(w, i);

CREATE TEMP TABLE _domains AS
SELECT i::integer, w FROM unnest(ARRAY[
    'gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com',
    'hotmail.com', 'icloud.com', 'proton.me', 'example.com', 'example.org',
    'acme.io', 'initech.com', 'mail.example.net', 'university.edu', 'fastmail.fm'])
    WITH ORDINALITY AS t(w, i);

ANALYZE _words, _sentences, _titles, _paragraphs, _comment_texts, _first_names, _last_names, _domains;

-- step: users

INSERT INTO users (id, email, username, password_hash, full_name, avatar_url, role,
                   email_verified, is_active, last_login_at, created_at, updated_at)
SELECT md5('demo-user-' || g.n)::uuid,
       -- ~75% lower case, ~15% John.Smith42@Example.com, ~7% John.Smith42@gmail.com, ~3% upper
       CASE WHEN c.r < 0.75 THEN lower(g.local) || '@' || d.w
            WHEN c.r < 0.90 THEN g.local || '@' || upper(left(d.w, 1)) || substr(d.w, 2)
            WHEN c.r < 0.97 THEN g.local || '@' || d.w
            ELSE upper(g.local || '@' || d.w)
       END,
       g.username,
       '$2b$12$' || left(md5('pw-' || g.n) || md5('salt-' || g.n), 53),
       CASE WHEN pg_temp.u(g.n, 6) < 0.08 THEN NULL ELSE g.first || ' ' || g.last END,
       CASE WHEN pg_temp.u(g.n, 7) < 0.4 THEN NULL
            ELSE 'https://cdn.example.com/avatars/' || md5('avatar-' || g.n) || '.jpg' END,
       (CASE WHEN c.role_r < 0.01 THEN 'admin' WHEN c.role_r < 0.03 THEN 'moderator' ELSE 'user' END)::user_role,
       pg_temp.u(g.n, 10) < 0.85,
       pg_temp.u(g.n, 11) < 0.93,
       CASE WHEN pg_temp.u(g.n, 12) < 0.12 THEN NULL
            ELSE g.created_at + (pg_temp.anchor() - g.created_at) * (1 - pg_temp.u(g.n, 13) ^ 4) END,
       g.created_at,
       g.created_at + (pg_temp.anchor() - g.created_at) * pg_temp.u(g.n, 14) * 0.3
FROM (
    SELECT s.n, f.w AS first, l.w AS last,
           pg_temp.user_created(s.n, cfg.nu) AS created_at,
           -- local part of the address, in the person's own capitalisation
           CASE pg_temp.pick(s.n, 3, 4)
               WHEN 1 THEN f.w || '.' || l.w || s.n
               WHEN 2 THEN f.w || l.w || s.n
               WHEN 3 THEN left(f.w, 1) || l.w || s.n
               ELSE f.w || '_' || left(l.w, 1) || s.n
           END AS local,
           CASE pg_temp.pick(s.n, 4, 6)
               WHEN 1 THEN lower(f.w) || '_' || lower(l.w) || s.n
               WHEN 2 THEN lower(f.w) || lower(l.w) || s.n
               WHEN 3 THEN f.w || l.w || s.n
               WHEN 4 THEN lower(left(f.w, 1) || l.w) || s.n
               WHEN 5 THEN lower(l.w) || '.' || lower(f.w) || s.n
               ELSE lower(f.w) || s.n
           END AS username
    FROM (SELECT current_setting('demo.users')::integer AS nu OFFSET 0) AS cfg
    CROSS JOIN generate_series(1, cfg.nu) AS s(n)
    JOIN _first_names AS f ON f.i = pg_temp.pick(s.n, 1, 70)
    JOIN _last_names AS l ON l.i = pg_temp.pick(s.n, 2, 60)
    OFFSET 0
) AS g
CROSS JOIN LATERAL (SELECT pg_temp.u(g.n, 5) AS r, pg_temp.u(g.n, 9) AS role_r) AS c
JOIN _domains AS d ON d.i = pg_temp.pick(g.n, 15, 15);

-- step: posts

-- One row per post with what the comments step needs too. (OFFSET 0 keeps each
-- level a subquery, so the planner inlines the pg_temp functions on plain columns
-- instead of calling them once per use.)
CREATE TEMP TABLE _posts AS
SELECT p.n, p.author, p.created_at, p.status,
       CASE WHEN p.status = 'draft' THEN NULL
            ELSE p.created_at + least(pg_temp.u(p.n, 25) * interval '36 hours',
                                      (pg_temp.anchor() - p.created_at) / 2)
       END AS published_at
FROM (
    SELECT a.n, a.author, a.status,
           -- between the author's signup and the anchor
           pg_temp.anchor() - (pg_temp.anchor() - pg_temp.user_created(a.author, a.nu))
                              * (1 - pg_temp.u(a.n, 22)) AS created_at
    FROM (
        SELECT s.n, cfg.nu,
               -- writer rank r = floor(nu/5 * u^3), so a fifth of the users write and the
               -- top 1% of users write over a third of the posts; rank -> user is a
               -- fixed permutation
               1 + ((floor(cfg.nu / 5.0 * pg_temp.u(s.n, 21) ^ 3)::bigint + 1) * 1000003 % cfg.nu)::integer
                   AS author,
               CASE WHEN pg_temp.u(s.n, 24) < 0.08 THEN 'draft'
                    WHEN pg_temp.u(s.n, 24) < 0.15 THEN 'archived'
                    ELSE 'published' END::post_status AS status
        FROM (SELECT current_setting('demo.users')::integer AS nu,
                     current_setting('demo.posts')::integer AS np OFFSET 0) AS cfg
        CROSS JOIN generate_series(1, cfg.np) AS s(n)
        OFFSET 0
    ) AS a
    OFFSET 0
) AS p
ORDER BY p.created_at, p.n;      -- rows go in in the order a real site would have written them

INSERT INTO posts (id, user_id, title, slug, content, status, published_at, view_count,
                   created_at, updated_at)
SELECT md5('demo-post-' || p.n)::uuid,
       md5('demo-user-' || p.author)::uuid,
       t.title,
       t.slug || '-' || p.n,
       concat_ws(E'\n\n', p1.txt, p2.txt, CASE WHEN pg_temp.u(p.n, 26) < 0.4 THEN p3.txt END),
       p.status,
       p.published_at,
       CASE WHEN p.status = 'draft' THEN 0
            ELSE floor(20 * (cfg.np::double precision / p.n) ^ 0.8 * (0.5 + pg_temp.u(p.n, 27)))::integer
       END,
       p.created_at,
       coalesce(p.published_at, p.created_at)
         + (pg_temp.anchor() - coalesce(p.published_at, p.created_at)) * pg_temp.u(p.n, 28) ^ 6
FROM (SELECT current_setting('demo.posts')::integer AS np OFFSET 0) AS cfg
CROSS JOIN _posts AS p
JOIN _titles AS t ON t.i = pg_temp.pick(p.n, 23, 20000)
JOIN _paragraphs AS p1 ON p1.i = pg_temp.pick(p.n, 29, 3000)
JOIN _paragraphs AS p2 ON p2.i = pg_temp.pick(p.n, 30, 3000)
JOIN _paragraphs AS p3 ON p3.i = pg_temp.pick(p.n, 31, 3000);

-- step: comments

-- Posts that can be commented on, most popular (lowest n) first.
CREATE TEMP TABLE _targets AS
SELECT row_number() OVER (ORDER BY n)::integer AS rank,
       md5('demo-post-' || n)::uuid AS post_id,
       published_at
FROM _posts
WHERE status <> 'draft';

ANALYZE _targets;

-- The planner cannot tell how many rows generate_series(1, current_setting(...))
-- gives and would probe _targets once per comment through a nested loop; hashing
-- _targets is several times faster.
SET enable_nestloop = off;

INSERT INTO comments (id, post_id, user_id, parent_id, content, is_approved, is_deleted,
                      created_at, updated_at)
SELECT c.id, c.post_id, c.user_id, c.parent_id,
       CASE WHEN pg_temp.u(c.n, 36) < 0.005
            THEN long.txt                     -- a few long ones
            ELSE concat_ws(' ', t1.txt, CASE WHEN pg_temp.u(c.n, 37) < 0.25 THEN t2.txt END)
       END,
       pg_temp.u(c.n, 38) < 0.9,
       pg_temp.u(c.n, 39) < 0.02,
       c.created_at,
       c.created_at
FROM (
    SELECT w.n, w.id, w.post_id, w.user_id, w.created_at,
           -- a reply to one of the three previous comments on the same post
           CASE WHEN pg_temp.u(w.n, 34) < 0.35 THEN
               CASE pg_temp.pick(w.n, 35, 3)
                   WHEN 1 THEN lag(w.id, 1) OVER thread
                   WHEN 2 THEN lag(w.id, 2) OVER thread
                   ELSE lag(w.id, 3) OVER thread
               END
           END AS parent_id
    FROM (
        SELECT s.n, t.rank, t.post_id,
               md5('demo-comment-' || s.n)::uuid AS id,
               -- commenters are skewed too, but not the same people as the authors
               md5('demo-user-' || (1 + (floor(cfg.nu * pg_temp.u(s.n, 32) ^ 2.5)::bigint + 1) * 999983 % cfg.nu))::uuid
                   AS user_id,
               -- most comments come soon after the post is published
               t.published_at + (pg_temp.anchor() - t.published_at) * pg_temp.u(s.n, 33) ^ 3 AS created_at
        FROM (SELECT current_setting('demo.users')::integer AS nu,
                     current_setting('demo.comments')::integer AS nc,
                     (SELECT count(*) FROM _targets)::integer AS nt OFFSET 0) AS cfg
        CROSS JOIN generate_series(1, cfg.nc) AS s(n)
        JOIN _targets AS t ON t.rank = 1 + floor(cfg.nt * pg_temp.u(s.n, 31) ^ 4)::integer
        OFFSET 0
    ) AS w
    WINDOW thread AS (PARTITION BY w.rank ORDER BY w.created_at, w.n)
    ORDER BY w.created_at, w.n       -- insertion in time order, as on a real site
) AS c
JOIN _comment_texts AS t1 ON t1.i = pg_temp.pick(c.n, 40, 4000)
JOIN _comment_texts AS t2 ON t2.i = pg_temp.pick(c.n, 41, 4000)
JOIN _paragraphs AS long ON long.i = pg_temp.pick(c.n, 42, 3000);

RESET enable_nestloop;

-- step: cleanup

DROP TABLE IF EXISTS _targets, _posts, _words, _class_size, _templates, _sentences, _titles,
    _paragraphs, _comment_texts, _first_names, _last_names, _domains;
DROP FUNCTION IF EXISTS pg_temp.fill(text, integer, integer);
DROP FUNCTION IF EXISTS pg_temp.user_created(bigint, integer);
DROP FUNCTION IF EXISTS pg_temp.anchor();
DROP FUNCTION IF EXISTS pg_temp.pick(bigint, integer, integer);
DROP FUNCTION IF EXISTS pg_temp.u(bigint, integer);
