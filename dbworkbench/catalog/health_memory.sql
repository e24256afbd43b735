-- health_memory: the server machine's memory as its operating system reports it (Linux /proc/meminfo and the cgroup limit; needs pg_read_server_files)
SELECT pg_read_file('/proc/meminfo', 0, 4096, true) AS meminfo,
       pg_read_file('/sys/fs/cgroup/memory.max', 0, 64, true) AS cgroup_v2_max,
       pg_read_file('/sys/fs/cgroup/memory/memory.limit_in_bytes', 0, 64, true) AS cgroup_v1_limit
