#!/bin/sh
# Interop and hostile-client tests for xenstore-lite. Starts the daemon on a
# socket in a fresh temporary directory, points XENSTORED_PATH at it, runs
# Debian's xenstore-utils, the libxenstore API test (linked against our
# library and against Debian's), and the hostile client; always kills the
# daemon at the end. Prints "N passed, N failed" and exits non-zero on any
# failure. Needs BUILD (build root) and OBJ (xenstore-lite objects); DAEMON
# picks the daemon binary (the Makefile passes its ASan/UBSan build, whose
# exit status then also reports leaks and undefined behaviour).
set -u
: "${BUILD:?}" "${OBJ:?}"
DAEMON=${DAEMON:-$BUILD/bin/xenstore-lite}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/xenstore-lite-test.XXXXXX)
daemon_pid=""
pass=0
fail=0

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }

# expect NAME WANTED COMMAND...: the command's stdout must equal WANTED.
expect() {
	name=$1 want=$2
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then ok "$name"; else ko "$name" "got '$got', want '$want'"; fi
}
# expect_rc NAME RC COMMAND...: the command must exit with RC.
expect_rc() {
	name=$1 want=$2
	shift 2
	"$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else ko "$name" "exit $rc, want $want"; fi
}
# count the PASS/FAIL lines of a test program's output; its exit status
# must agree with them.
run_prog() {
	name=$1
	shift
	"$@" > "$tmp/out" 2>&1
	rc=$?
	cat "$tmp/out"
	p=$(grep -c '^PASS' "$tmp/out")
	f=$(grep -c '^FAIL' "$tmp/out")
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then ko "$name" "exit status $rc"; fi
	if [ "$p" -eq 0 ]; then ko "$name" "ran no checks"; fi
}

export XENSTORED_PATH="$tmp/socket"
"$DAEMON" --socket "$XENSTORED_PATH" --log "$tmp/daemon.log" 2>"$tmp/daemon.err" &
daemon_pid=$!
i=0
while [ ! -S "$XENSTORED_PATH" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$XENSTORED_PATH" ] || { echo "xenstore-lite did not start"; cat "$tmp/daemon.log"; exit 1; }

echo "== xenstore-utils"
expect_rc write-parents 0 xenstore-write /u/a/b hello /u/a/c world
expect read hello xenstore-read /u/a/b
expect read-many "hello
world" xenstore-read /u/a/b /u/a/c
expect list "b
c" xenstore-list /u/a
expect ls 'a = ""
 b = "hello"
 c = "world"' xenstore-ls /u
expect_rc exists 0 xenstore-exists /u/a/b
expect_rc exists-missing 1 xenstore-exists /u/nope
expect_rc read-missing 1 xenstore-read /u/nope
expect_rc chmod 0 xenstore-chmod /u/a/b r5 b6
expect ls-perms 'b = "hello"  . . . . . . . . . . . . . . . . . . . . . . . .  (r5,b6)' \
	sh -c 'xenstore-ls -p /u/a | head -n 1'
expect_rc rm 0 xenstore-rm /u/a/b
expect list-after-rm "c" xenstore-list /u/a
expect_rc rm-missing-ok 0 xenstore-rm /u/a/nope
xenstore-watch -n 3 /u/w > "$tmp/watch.out" 2>&1 &
watch_pid=$!
# The initial event shows that the watch is registered.
i=0
while [ ! -s "$tmp/watch.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
xenstore-write /u/w/x 1
xenstore-rm /u/w
i=0
while kill -0 "$watch_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
expect watch "/u/w
/u/w/x
/u/w" cat "$tmp/watch.out"
expect_rc write-bad-path 1 xenstore-write /u//bad x
expect_rc rm-tree 0 xenstore-rm /u

echo "== libxenstore API, our library"
run_prog api-ours "$OBJ/tests/api-ours" /api-ours
echo "== libxenstore API, Debian's libxenstore"
run_prog api-debian "$OBJ/tests/api-debian" /api-debian
echo "== hostile clients"
run_prog hostile "$OBJ/tests/hostile"

if kill -0 "$daemon_pid" 2>/dev/null; then ok daemon-survived; else ko daemon-survived "daemon died"; fi
kill "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=""
if [ "$rc" -eq 0 ] && [ ! -e "$XENSTORED_PATH" ]; then ok clean-sigterm-shutdown
else ko clean-sigterm-shutdown "exit $rc or socket left behind"; cat "$tmp/daemon.err"; fi

echo "== command line"
expect_rc help-exit-0 0 "$DAEMON" --help
expect_rc bad-option-exit-2 2 "$DAEMON" --frobnicate
expect_rc bad-quota-exit-2 2 "$DAEMON" -Q nosuch=1
expect_rc stray-argument-exit-2 2 "$DAEMON" --socket "$tmp/unused" extra
expect stray-argument-named "xenstore-lite: unexpected argument 'extra'" \
	sh -c '"$1" --socket "$2" extra 2>&1 >/dev/null | head -n 1' sh "$DAEMON" "$tmp/unused"
if "$DAEMON" --socket "$tmp/unused" extra 2>&1 | grep -q '^usage:'; then ok stray-argument-usage
else ko stray-argument-usage "no usage after the error line"; fi
expect_rc bad-socket-dir-exit-1 1 "$DAEMON" --socket "$tmp/no/such/dir/sock"
expect_rc help-names-no-domain-init 0 sh -c '"$1" --help | grep -q -- --no-domain-init' sh "$DAEMON"
# -D (no dom0 ring) is accepted; this host has no /proc/xen/xsd_kva anyway.
"$DAEMON" --socket "$XENSTORED_PATH" -D -Q watches=2 --log "$tmp/quota.log" 2>>"$tmp/daemon.err" &
daemon_pid=$!
i=0
while [ ! -S "$XENSTORED_PATH" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
run_prog cmdline-quota "$OBJ/tests/hostile" watch-quota 2
if grep -q "quota watches (2) exceeded" "$tmp/quota.log"; then ok quota-refusal-logged
else ko quota-refusal-logged "no log line"; fi
kill "$daemon_pid"
wait "$daemon_pid"
daemon_pid=""

echo "== one live store per socket"
# start_daemon LOG: starts the daemon on $XENSTORED_PATH in the background
# ($daemon_pid) and waits until a client gets an answer from it.
start_daemon() {
	"$DAEMON" --socket "$XENSTORED_PATH" --log "$1" 2>>"$tmp/daemon.err" &
	daemon_pid=$!
	i=0
	until xenstore-exists / 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
}
start_daemon "$tmp/first.log"
xenstore-write /live/before kept
ino=$(stat -c %i "$XENSTORED_PATH")
# A second daemon on the served socket must refuse at once, touching nothing
# (timeout: the old daemon took the socket over and kept running).
timeout 10 "$DAEMON" --socket "$XENSTORED_PATH" --log "$tmp/second.log" 2>"$tmp/second.err"
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then ok second-daemon-refused
else ko second-daemon-refused "exit $rc"; fi
if [ "$(wc -l < "$tmp/second.err")" -eq 1 ] &&
   grep -q "^xenstore-lite: $XENSTORED_PATH: already in use" "$tmp/second.err"; then
	ok second-daemon-says-in-use
else ko second-daemon-says-in-use "stderr: $(cat "$tmp/second.err")"; fi
if [ -S "$XENSTORED_PATH" ] && [ "$(stat -c %i "$XENSTORED_PATH")" = "$ino" ]; then
	ok socket-untouched
else ko socket-untouched "socket file removed or replaced"; fi
xenstore-write /live/after also 2>/dev/null
expect first-daemon-still-serves "kept
also" xenstore-read /live/before /live/after
if kill -0 "$daemon_pid" 2>/dev/null; then ok first-daemon-alive; else ko first-daemon-alive; fi
# A socket left behind by a killed daemon is stale (nobody listens): taken over.
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
if [ -S "$XENSTORED_PATH" ]; then ok stale-socket-left
else ko stale-socket-left "SIGKILL left no socket file"; fi
start_daemon "$tmp/third.log"
xenstore-write /live/stale taken-over 2>/dev/null
expect stale-socket-taken-over taken-over xenstore-read /live/stale
kill "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=""
if [ "$rc" -eq 0 ] && [ ! -e "$XENSTORED_PATH" ]; then ok stale-takeover-clean-exit
else ko stale-takeover-clean-exit "exit $rc or socket left behind"; fi
# A file that is not a socket is never replaced.
echo data > "$tmp/plain"
expect_rc not-a-socket-refused 1 timeout 10 "$DAEMON" --socket "$tmp/plain"
expect not-a-socket-untouched data cat "$tmp/plain"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
