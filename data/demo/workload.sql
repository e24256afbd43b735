-- description: the demo blog application's statements, weighted, with their parameters
--
-- Read by dbworkbench.datasets.load_workload and run by run_workload: each
-- iteration picks one statement at random in proportion to its weight, draws
-- its parameters and runs it (and, for N+1 drivers, its followers).
--
-- Format. Everything before the first "-- name:" line is documentation (like
-- this). Then each statement is a header of "-- key: value" comment lines,
-- starting with "-- name:", followed by exactly one SQL statement ending in ";".
--
--   -- name: <identifier>          required, unique: [a-z][a-z0-9_]*
--   -- weight: <integer >= 0>      relative chance of being picked (default 1;
--                                  0 = never picked on its own)
--   -- kind: read | write          optional; by default a statement is a write
--                                  when it is, or its WITH holds, an INSERT,
--                                  UPDATE, DELETE or MERGE
--   -- params: p = gen, q = gen(arg, arg)
--                                  where each %(p)s placeholder gets its value:
--                                  a named generator (list below), drawn afresh
--                                  for every execution
--   -- for_each: <statement>.<column> -> <param>
--                                  the N+1 pattern: whenever <statement> runs,
--                                  run this one once per row of its result, with
--                                  %(param)s bound to that row's <column>. Such
--                                  a follower is never picked on its own (no
--                                  weight); its other placeholders use params.
--   -- note: <text>                prose, any number of lines
--
-- Header keys are lower case; a "-- word:" line with an unknown key is an
-- error (so "-- wieght: 3" is caught), other comment lines are prose.
-- Placeholders are psycopg's %(name)s, sent as server-side parameters (so
-- pg_stat_statements shows $1 and each statement is one entry); a literal %
-- is written %%.
--
-- Generators (values come from pools sampled once per run from the database,
-- then drawn with a random.Random seeded by run_workload's seed):
--   user_id            a user, skewed towards those who write (as traffic is)
--   any_user_id        a user, uniformly
--   post_id            a post, skewed towards the much-commented ones
--   comment_id         a comment
--   email              an existing email exactly as stored
--   email_mixed_case   an existing email in the case a person types it
--                      (as stored, lower, upper or capitalised)
--   username           an existing username
--   login              what a person types to log in: a username or an email
--   slug               an existing post slug
--   title_word         a word that occurs in post titles
--   search_terms       one or two words that occur in post contents
--   deep_offset        an OFFSET from page 50 to half-way through the posts
--   recent_time        a time in the last 30 days of the data; recent_time(d)
--   int(lo, hi)        an integer in [lo, hi]
--   choice(a, b, ...)  one of the words given
--   comment_text       one to three sentences; about 1 in 50 is over 5,000
--                      characters (a client that does not validate), which the
--                      CHECK constraint rejects: an expected error
--   post_text, new_title, new_slug, new_email, new_username, full_name,
--   avatar_url, password_hash
--                      fresh values for inserts and profile updates; new_slug,
--                      new_email and new_username are unique per run
--
-- Anti-patterns here on purpose (the handbook warns about each): LOWER(email)
-- lookups, the N+1 pattern, SELECT *, filtering comments by user_id (a foreign
-- key with no index), deep OFFSET pagination, LIKE '%word%' on titles, OR
-- across two columns, NOT IN (subquery), a correlated count subquery, count(*)
-- of the largest table, full-text search with no full-text index, an ORDER BY
-- on an unindexed column. The rest is what a healthy blog also runs.


-- ====================================================================== reads

-- name: user_by_id
-- weight: 10
-- params: user_id = user_id
-- note: profile header; primary key lookup
SELECT id, username, full_name, avatar_url, role, created_at
FROM users
WHERE id = %(user_id)s;

-- name: user_by_email
-- weight: 3
-- params: email = email
-- note: the handbook's "GOOD - index-friendly query", with its non-existent
-- note: column "name" replaced by full_name
SELECT id, full_name, email FROM users WHERE email = %(email)s;

-- name: user_by_lower_email
-- weight: 5
-- params: email = email_mixed_case
-- note: the handbook's "BAD - full table scan": no index on LOWER(email)
SELECT * FROM users WHERE LOWER(email) = LOWER(%(email)s);

-- name: login_by_username_or_email
-- weight: 4
-- params: login = login
-- note: OR across two columns
SELECT id, password_hash, role, is_active
FROM users
WHERE username = %(login)s OR email = %(login)s;

-- name: user_by_username
-- weight: 4
-- params: username = username
SELECT id, username, full_name, avatar_url, created_at
FROM users
WHERE username = %(username)s;

-- name: recent_signups
-- weight: 1
SELECT id, username, created_at
FROM users
ORDER BY created_at DESC
LIMIT 20;

-- name: users_by_role
-- weight: 1
-- params: role = choice(admin, moderator)
SELECT id, username, email, last_login_at
FROM users
WHERE role = %(role)s::user_role
ORDER BY created_at;

-- name: post_by_slug
-- weight: 12
-- params: slug = slug
-- note: the article page
SELECT p.id, p.title, p.content, p.published_at, p.view_count, u.username, u.full_name
FROM posts p
JOIN users u ON u.id = p.user_id
WHERE p.slug = %(slug)s;

-- name: post_by_id_select_star
-- weight: 6
-- params: post_id = post_id
-- note: SELECT * drags the whole content along for a title
SELECT * FROM posts WHERE id = %(post_id)s;

-- name: home_feed
-- weight: 8
-- note: served by the partial index idx_posts_status_published
SELECT p.id, p.title, p.slug, p.published_at, u.username
FROM posts p
JOIN users u ON u.id = p.user_id
WHERE p.status = 'published'
ORDER BY p.published_at DESC
LIMIT 20;

-- name: feed_deep_offset
-- weight: 2
-- params: offset = deep_offset
-- note: page 50 and beyond: OFFSET reads and throws away every earlier row
SELECT p.id, p.title, p.slug, p.published_at
FROM posts p
WHERE p.status = 'published'
ORDER BY p.published_at DESC
LIMIT 20 OFFSET %(offset)s;

-- name: feed_with_comment_counts
-- weight: 3
-- note: a correlated count subquery, once per row of the feed
SELECT p.id, p.title, p.slug,
       (SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS comment_count
FROM posts p
WHERE p.status = 'published'
ORDER BY p.published_at DESC
LIMIT 20;

-- name: handbook_active_users_posts
-- weight: 1
-- note: the handbook's "GOOD - single query with JOIN" (u.name -> u.full_name).
-- note: Not so good: it joins every active user to every post to keep 20 rows,
-- note: and users without posts sort first (NULLs come first in DESC).
SELECT
    u.id, u.full_name, u.email,
    p.id AS post_id, p.title, p.created_at
FROM users u
LEFT JOIN posts p ON u.id = p.user_id
WHERE u.is_active = TRUE
ORDER BY p.created_at DESC
LIMIT 20;

-- name: handbook_admin_post_counts
-- weight: 1
-- note: the handbook's EXPLAIN ANALYZE example, without the EXPLAIN
SELECT u.id, u.email, COUNT(p.id) AS post_count
FROM users u
LEFT JOIN posts p ON u.id = p.user_id
WHERE u.role = 'admin'
GROUP BY u.id, u.email
HAVING COUNT(p.id) > 5
ORDER BY post_count DESC;

-- name: user_recent_posts
-- weight: 4
-- params: user_id = user_id
-- note: N+1 driver: the author page lists posts, then post_comments_each
-- note: fetches each post's comments with one query per post
SELECT id, title, slug, created_at
FROM posts
WHERE user_id = %(user_id)s
ORDER BY created_at DESC
LIMIT 10;

-- name: post_comments_each
-- for_each: user_recent_posts.id -> post_id
-- note: the N+1 follower, and SELECT * as well
SELECT * FROM comments WHERE post_id = %(post_id)s ORDER BY created_at;

-- name: recently_seen_users
-- weight: 1
-- note: N+1 driver, the handbook's own example: SELECT * FROM users, then
-- note: posts_of_user_each once per user (and no index on last_login_at)
SELECT * FROM users WHERE is_active ORDER BY last_login_at DESC NULLS LAST LIMIT 10;

-- name: posts_of_user_each
-- for_each: recently_seen_users.id -> user_id
-- note: "Then for each user: SELECT * FROM posts WHERE user_id = ?"
SELECT * FROM posts WHERE user_id = %(user_id)s;

-- name: user_drafts
-- weight: 2
-- params: user_id = user_id
SELECT id, title, updated_at
FROM posts
WHERE user_id = %(user_id)s AND status = 'draft'
ORDER BY updated_at DESC;

-- name: post_comment_thread
-- weight: 6
-- params: post_id = post_id
-- note: approved comments under an article, oldest first
SELECT c.id, c.parent_id, c.content, c.created_at, u.username
FROM comments c
JOIN users u ON u.id = c.user_id
WHERE c.post_id = %(post_id)s AND c.is_approved AND NOT c.is_deleted
ORDER BY c.created_at
LIMIT 50;

-- name: comment_replies_tree
-- weight: 2
-- params: comment_id = comment_id
-- note: a reply tree; joining on post_id too lets idx_comments_post_parent serve it
WITH RECURSIVE thread AS (
    SELECT id, post_id, parent_id, content, 1 AS depth
    FROM comments
    WHERE id = %(comment_id)s
  UNION ALL
    SELECT c.id, c.post_id, c.parent_id, c.content, t.depth + 1
    FROM comments c
    JOIN thread t ON c.post_id = t.post_id AND c.parent_id = t.id
    WHERE t.depth < 10
)
SELECT id, parent_id, depth, content FROM thread ORDER BY depth, id;

-- name: comments_by_user
-- weight: 2
-- params: user_id = user_id
-- note: comments.user_id is a foreign key without an index
SELECT id, post_id, content, created_at
FROM comments
WHERE user_id = %(user_id)s
ORDER BY created_at DESC
LIMIT 20;

-- name: title_search_like
-- weight: 2
-- params: word = title_word
-- note: a leading wildcard: no b-tree index can help
SELECT id, title, slug, view_count
FROM posts
WHERE title LIKE '%%' || %(word)s || '%%'
ORDER BY view_count DESC
LIMIT 20;

-- name: fulltext_search
-- weight: 2
-- params: terms = search_terms
-- note: the handbook's full-text search, but idx_posts_content_search was never created
SELECT id, title, slug, published_at
FROM posts
WHERE to_tsvector('english', content) @@ plainto_tsquery('english', %(terms)s)
ORDER BY published_at DESC
LIMIT 20;

-- name: new_users_without_posts
-- weight: 1
-- params: since = recent_time
-- note: NOT IN (subquery): NULL-unsafe, and planned as a subplan, not an anti-join
SELECT u.id, u.username, u.created_at
FROM users u
WHERE u.created_at > %(since)s
  AND u.id NOT IN (SELECT p.user_id FROM posts p WHERE p.created_at > %(since)s)
ORDER BY u.created_at DESC
LIMIT 50;

-- name: top_posts_by_views
-- weight: 1
-- note: no index on view_count: a full scan and a top-N sort
SELECT id, title, slug, view_count
FROM posts
WHERE status = 'published'
ORDER BY view_count DESC
LIMIT 10;

-- name: count_comments
-- weight: 1
-- note: the site footer's "N comments so far": count(*) of the largest table
SELECT count(*) FROM comments;

-- name: moderation_queue
-- weight: 1
SELECT c.id, c.post_id, c.content, c.created_at
FROM comments c
WHERE NOT c.is_approved AND NOT c.is_deleted
ORDER BY c.created_at
LIMIT 50;

-- name: author_stats
-- weight: 2
-- params: user_id = user_id
SELECT u.username,
       count(p.id) AS posts,
       coalesce(sum(p.view_count), 0) AS views,
       max(p.published_at) AS last_published
FROM users u
LEFT JOIN posts p ON p.user_id = u.id AND p.status = 'published'
WHERE u.id = %(user_id)s
GROUP BY u.username;


-- ===================================================================== writes

-- name: post_view_increment
-- weight: 12
-- params: post_id = post_id
-- note: every article view; fires update_posts_updated_at
UPDATE posts SET view_count = view_count + 1 WHERE id = %(post_id)s;

-- name: user_last_login
-- weight: 5
-- params: user_id = user_id
UPDATE users SET last_login_at = now() WHERE id = %(user_id)s;

-- name: comment_insert
-- weight: 4
-- params: post_id = post_id, user_id = any_user_id, content = comment_text
INSERT INTO comments (post_id, user_id, content, is_approved)
VALUES (%(post_id)s, %(user_id)s, %(content)s, TRUE)
RETURNING id;

-- name: comment_reply_insert
-- weight: 2
-- params: comment_id = comment_id, user_id = any_user_id, content = comment_text
INSERT INTO comments (post_id, user_id, parent_id, content, is_approved)
SELECT post_id, %(user_id)s, id, %(content)s, TRUE
FROM comments
WHERE id = %(comment_id)s
RETURNING id;

-- name: comment_approve
-- weight: 1
-- params: comment_id = comment_id
UPDATE comments SET is_approved = TRUE WHERE id = %(comment_id)s;

-- name: comment_soft_delete
-- weight: 1
-- params: comment_id = comment_id
-- note: comments has an updated_at column but no trigger keeps it current
UPDATE comments SET is_deleted = TRUE WHERE id = %(comment_id)s;

-- name: post_insert_draft
-- weight: 1
-- params: user_id = user_id, title = new_title, slug = new_slug, content = post_text
INSERT INTO posts (user_id, title, slug, content, status)
VALUES (%(user_id)s, %(title)s, %(slug)s, %(content)s, 'draft')
RETURNING id;

-- name: post_publish_oldest_draft
-- weight: 1
-- params: user_id = user_id
UPDATE posts
SET status = 'published', published_at = now()
WHERE id = (SELECT id FROM posts
            WHERE user_id = %(user_id)s AND status = 'draft'
            ORDER BY created_at
            LIMIT 1);

-- name: user_signup
-- weight: 1
-- params: email = new_email, username = new_username, password_hash = password_hash, full_name = full_name
INSERT INTO users (email, username, password_hash, full_name)
VALUES (%(email)s, %(username)s, %(password_hash)s, %(full_name)s)
RETURNING id;

-- name: user_profile_update
-- weight: 1
-- params: user_id = user_id, full_name = full_name, avatar_url = avatar_url
UPDATE users
SET full_name = %(full_name)s, avatar_url = %(avatar_url)s
WHERE id = %(user_id)s;

-- name: verify_email_lower
-- weight: 1
-- params: email = email_mixed_case
-- note: LOWER(email) again, this time in an UPDATE
UPDATE users SET email_verified = TRUE WHERE LOWER(email) = LOWER(%(email)s);
