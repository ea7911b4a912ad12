#!/usr/bin/env bash
# The test command: installs what the tests need, builds once, then runs the whole suite on every
# ISA tier (AVX-512 where the CPU has it, AVX2+FMA, Vector128 only, scalar only; on a CPU without AVX-512
# the first two runs are the same tier). Last line: "N passed, N failed" over all runs
# (skipped tests count as failed: a skipped test is a promise not kept), plus the server tests (tests/Lacuna.Server.Tests)
# run once.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
blog=$(mktemp)
if ! dotnet build Lacuna.slnx -c Release >"$blog" 2>&1; then
  grep -E "error|warning" "$blog" | head -n 40
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
grep -E "Warning\(s\)|Error\(s\)" "$blog"; rm -f "$blog"

total_pass=0; total_fail=0; status=0
run_tier() {
  local name="$1"; shift
  local project="tests/Lacuna.Tests"
  if [ "$name" = "server" ]; then project="tests/Lacuna.Server.Tests"; fi
  local log; log=$(mktemp)
  echo "=== tests: tier $name ==="
  env "$@" dotnet test "$project" -c Release --no-build ${LACUNA_TEST_FILTER:+--filter "$LACUNA_TEST_FILTER"} 2>&1 | tee "$log" | grep -E "^\s*(Failed |Passed!|Failed!|  Error Message|   [A-Z].*Failure)" | head -n 60
  local line; line=$(grep -E "(Passed|Failed)!.*Total:" "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "tier $name: no test summary (crash or build problem)"; tail -n 20 "$log"
    total_fail=$((total_fail + 1)); status=1; return
  fi
  local f p s
  f=$(sed -E 's/.*Failed:[[:space:]]*([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed:[[:space:]]*([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped:[[:space:]]*([0-9]+).*/\1/' <<<"$line")
  echo "tier $name: $p passed, $f failed, $s skipped"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f + s))
  [ "$f" = "0" ] && [ "$s" = "0" ] || status=1
  rm -f "$log"
}
run_tier avx512      DOTNET_EnableAVX512=1
run_tier avx2fma     DOTNET_EnableAVX512=0
run_tier vector128   DOTNET_EnableAVX2=0
run_tier scalar      DOTNET_EnableHWIntrinsic=0
# The server's tests (a real server on loopback: protocol, batching, queue, shutdown) run once, on the default tier:
# the server adds no kernels, and what they check does not change with the ISA tier the engine tests already cover.
run_tier server      DOTNET_EnableAVX512=1
echo "$total_pass passed, $total_fail failed"
exit $status
