# The test suites: one list, read by the Makefile and by tests/run.sh
# (one NAME := a b c line each).
# Unit suites (tests/unit/): one module at a time, no servers.
UNIT_SUITES := test_sse test_sse_portable test_http test_http_portable test_reqline test_reqline_portable test_txfast test_txfast_portable test_log test_seal test_analyze test_rows test_json test_prom test_follow test_export test_merge test_charts test_join
# End-to-end suites (tests/e2e/): real clients, the programs, the fixture server.
E2E_SUITES := test_stream_numbers test_shim test_shim_fd test_shim_log test_shim_mask test_shim_inherit test_shim_stdio test_clients test_tls test_probe test_probe_stop test_cold test_truth test_load test_sweep test_sweep_stop test_trace test_engine_script test_exporter test_prometheus test_gpu_day test_cli
# With TTFT_SLOW=1: the real engine (llama-server, built on demand).
SLOW_SUITES := test_engine
# The suites with threads, for make tsan; and test_cli: ttft-run's signal
# handling, whose handlers ThreadSanitizer runs only once a call returns.
TSAN_SUITES := test_log test_probe test_probe_stop test_cold test_truth test_tls test_exporter test_sweep test_sweep_stop test_load test_cli
