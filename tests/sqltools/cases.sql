-- Lint cases: each "-- case: <title>" names the codes lint must give ("-- codes:", in order,
-- comma-separated; empty for none) and is followed by one statement. Pure: no catalog.

-- case: handbook BAD lower(email)
-- codes: select-star, function-on-indexed-column
SELECT * FROM users WHERE LOWER(email) = 'test@example.com';

-- case: handbook GOOD index-friendly
-- codes:
SELECT id, full_name, email FROM users WHERE email = 'test@example.com';

-- case: handbook BAD N+1 driver
-- codes: select-star, missing-limit-on-unbounded-read
SELECT * FROM users;

-- case: handbook BAD select star
-- codes: select-star
SELECT * FROM orders WHERE customer_id = 123;

-- case: handbook GOOD select columns
-- codes:
SELECT id, order_number, total_amount, status, created_at FROM orders WHERE customer_id = 123 ORDER BY created_at DESC;

-- case: star inside EXISTS is fine
-- codes:
SELECT id FROM users u WHERE EXISTS (SELECT * FROM posts p WHERE p.user_id = u.id);

-- case: count star is not select star
-- codes:
SELECT count(*) FROM comments WHERE post_id = $1;

-- case: qualified star
-- codes: select-star
SELECT p.* FROM posts p WHERE p.id = $1;

-- case: date_trunc on a column
-- codes: function-on-indexed-column
SELECT id FROM posts WHERE date_trunc('day', created_at) = $1;

-- case: function on the parameter side only
-- codes:
SELECT id FROM users WHERE email = lower($1);

-- case: function on both sides of a join
-- codes: function-on-indexed-column
SELECT u.id FROM users u JOIN posts p ON lower(p.title) = u.username WHERE u.id = $1;

-- case: leading wildcard literal
-- codes: leading-wildcard-like
SELECT id FROM posts WHERE title LIKE '%postgres%' LIMIT 10;

-- case: leading wildcard concatenated
-- codes: leading-wildcard-like
SELECT id FROM posts WHERE title ILIKE '%' || $1 || '%' LIMIT 10;

-- case: prefix search is fine
-- codes:
SELECT id FROM posts WHERE title LIKE 'postgres%' LIMIT 10;

-- case: deep offset parameter
-- codes: offset-pagination
SELECT id, title FROM posts WHERE status = 'published' ORDER BY published_at DESC LIMIT 20 OFFSET $1;

-- case: small literal offset
-- codes: offset-pagination
SELECT id FROM posts WHERE user_id = $1 ORDER BY id LIMIT 20 OFFSET 20;

-- case: offset zero
-- codes:
SELECT id FROM posts WHERE user_id = $1 ORDER BY id LIMIT 20 OFFSET 0;

-- case: not in subquery
-- codes: not-in-subquery
SELECT u.id FROM users u WHERE u.id NOT IN (SELECT p.user_id FROM posts p WHERE p.status = 'draft') LIMIT 5;

-- case: not in a list is fine
-- codes:
SELECT id FROM posts WHERE status NOT IN ('draft', 'archived') AND user_id = $1;

-- case: or across columns
-- codes: or-across-columns
SELECT id FROM users WHERE username = $1 OR email = $1;

-- case: or on one column
-- codes:
SELECT id FROM users WHERE username = $1 OR username = $2;

-- case: correlated count in select list
-- codes: correlated-subquery
SELECT p.id, (SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS n FROM posts p WHERE p.user_id = $1;

-- case: uncorrelated scalar subquery
-- codes:
SELECT id FROM posts WHERE user_id = (SELECT id FROM users WHERE username = $1);

-- case: comma join without condition
-- codes: implicit-cross-join
SELECT u.id, p.id FROM users u, posts p WHERE u.id = $1;

-- case: comma join with condition
-- codes:
SELECT u.id, p.id FROM users u, posts p WHERE u.id = p.user_id AND u.id = $1;

-- case: explicit cross join
-- codes:
SELECT u.id, g.n FROM users u CROSS JOIN generate_series(1, 3) AS g(n) WHERE u.id = $1;

-- case: count for existence
-- codes: count-for-existence
SELECT u.id FROM users u WHERE (SELECT count(*) FROM posts p WHERE p.user_id = u.id) > 0 AND u.role = 'admin';

-- case: count for absence
-- codes: count-for-existence
SELECT u.id FROM users u WHERE 0 = (SELECT count(*) FROM posts p WHERE p.user_id = u.id) AND u.role = 'admin';

-- case: count compared with a threshold is a correlated subquery, not an existence test
-- codes: correlated-subquery
SELECT u.id FROM users u WHERE (SELECT count(*) FROM posts p WHERE p.user_id = u.id) > 5 AND u.role = 'admin';

-- case: distinct over a filtering join
-- codes: distinct-hides-join-fanout
SELECT DISTINCT u.id, u.username FROM users u JOIN posts p ON p.user_id = u.id WHERE p.status = 'published';

-- case: distinct over columns of both sides
-- codes:
SELECT DISTINCT u.id, p.status FROM users u JOIN posts p ON p.user_id = u.id WHERE u.id = $1;

-- case: cast on a column
-- codes: implicit-cast-on-column
SELECT id FROM posts WHERE created_at::date = $1;

-- case: cast on the value
-- codes:
SELECT id FROM posts WHERE created_at >= $1::date AND created_at < $1::date + 1;

-- case: text cast is free
-- codes:
SELECT id FROM users WHERE email::text = $1;

-- case: order by random
-- codes: order-by-random
SELECT id FROM posts WHERE status = 'published' ORDER BY random() LIMIT 5;

-- case: aggregate of a whole table is not an unbounded read
-- codes:
SELECT count(*) FROM comments;

-- case: the demo feed
-- codes:
SELECT p.id, p.title, p.slug, p.published_at, u.username FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published' ORDER BY p.published_at DESC LIMIT 20;

-- case: comma join linked by unqualified columns (TPC-H style)
-- codes:
SELECT o_orderkey FROM orders, lineitem WHERE o_orderkey = l_orderkey AND l_quantity > $1 LIMIT 5;

-- case: full-text search (offline: the index may exist)
-- codes: full-text-without-index
SELECT id FROM posts WHERE to_tsvector('english', content) @@ plainto_tsquery('english', $1) LIMIT 20;

-- case: full-text search without a configuration
-- codes: full-text-without-index
SELECT id FROM posts WHERE to_tsvector(content) @@ plainto_tsquery($1) LIMIT 20;

-- case: star inside a CTE and a subquery costs nothing
-- codes:
WITH recent AS (SELECT * FROM posts WHERE user_id = $1) SELECT r.id FROM (SELECT * FROM recent) AS r LIMIT 5;

-- case: stars in UNION branches reach the client
-- codes: select-star, select-star
SELECT * FROM posts WHERE id = $1 UNION ALL SELECT * FROM posts WHERE slug = $2;

-- case: a function over an aggregate in HAVING
-- codes:
SELECT user_id, count(*) FROM posts WHERE status = 'published' GROUP BY user_id HAVING coalesce(sum(view_count), 0) > 100 LIMIT 10;
