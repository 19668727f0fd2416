#!/usr/bin/env bash
# docker-cluster.sh builds the mir image and runs a 4-replica key-value
# store (mir replica) in 4 containers on a user-defined docker network;
# it checks that the replicas make progress, that 3 of them go on while
# the fourth is killed (docker kill: SIGKILL), and that the fourth catches
# up once started again; then it removes everything it made. It skips,
# with a message, where docker is absent or no daemon answers.
#
# The image is FROM scratch with a static binary. By default the binary is
# built on the host (go build, CGO_ENABLED=0) and copied into the image
# (deploy/Dockerfile.prebuilt), which needs no image pulled;
# MIR_BUILD=multistage builds it with the Dockerfile at the root instead,
# which pulls golang:1.26. MIR_IMAGE names the image (default mir:dev),
# removed at the end unless MIR_KEEP_IMAGE=1.
# See docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "docker-cluster: $*"; }

if ! command -v docker >/dev/null 2>&1; then
	say "skipped: docker is not installed"
	exit 0
fi
if ! docker info >/dev/null 2>&1; then
	say "skipped: no docker daemon answers (docker info fails)"
	exit 0
fi

readonly nodes=4 victim=3
readonly image=${MIR_IMAGE:-mir:dev}
readonly name=mir-demo-$$ # The network, and the containers' prefix.
work=$(mktemp -d)
readonly work

cleanup() {
	local ids
	ids=$(docker ps -aq --filter "label=mir-demo=$name")
	if [ -n "$ids" ]; then
		docker rm -f $ids >/dev/null
	fi
	docker network rm "$name" >/dev/null 2>&1 || true
	rm -rf "$work"
	local what="the containers, the network $name and $work"
	if [ -z "${MIR_KEEP_IMAGE:-}" ] && docker image inspect "$image" >/dev/null 2>&1; then
		docker rmi "$image" >/dev/null
		what+=", and the image $image (MIR_KEEP_IMAGE=1 keeps it)"
	fi
	say "removed $what"
}
trap cleanup EXIT

# 1. The image, with the legacy builder where the buildx plugin is missing.
builder=(docker build -q -t "$image")
docker buildx version >/dev/null 2>&1 || builder=(env DOCKER_BUILDKIT=0 "${builder[@]}")
if [ "${MIR_BUILD:-host}" = multistage ]; then
	say "building $image with the multi-stage Dockerfile"
	"${builder[@]}" . >/dev/null
else
	say "building cmd/mir on the host (CGO_ENABLED=0) and $image from deploy/Dockerfile.prebuilt"
	mkdir -p "$work/image/data"
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/image/mir" ./cmd/mir
	"${builder[@]}" -f deploy/Dockerfile.prebuilt "$work/image" >/dev/null
fi

# 2. Keys and a membership naming the containers, made by the image itself.
addrs=""
for i in $(seq 0 $((nodes - 1))); do
	addrs+="${addrs:+,}$name-$i:7000"
done
mkdir "$work/config"
docker run --rm --user "$(id -u):$(id -g)" -v "$work/config:/config" "$image" \
	membership generate --addrs "$addrs" --dir /config
# The replicas run as user 65532: let them read the keys (a throwaway demo).
chmod a+r "$work"/config/*

# 3. The network and the replicas; each publishes its metrics on a port of
# 127.0.0.1 that docker picks.
docker network create --label "mir-demo=$name" "$name" >/dev/null
for i in $(seq 0 $((nodes - 1))); do
	docker run -d --name "$name-$i" --label "mir-demo=$name" --network "$name" \
		-v "$work/config:/config:ro" -p 127.0.0.1::9100 "$image" \
		replica --membership /config/membership.json --id "$i" \
		--listen :7000 --client-addr :7001 --metrics :9100 --data /data >/dev/null
done
say "started $nodes replicas on network $name"

# height prints replica i's executed height (mir_iss_next_seq_nr), read
# from its metrics with bash's /dev/tcp (the image has no shell, the host
# may have no curl); nothing if it does not answer.
height() {
	local hostport port
	hostport=$(docker port "$name-$1" 9100/tcp 2>/dev/null | head -n 1) || return 0
	port=${hostport##*:}
	[ -n "$port" ] || return 0
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
		printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
		awk '/^mir_iss_next_seq_nr[{ ]/ { print $NF }' <&3
	) 2>/dev/null || true
}

# wait_until WHAT TEST: runs TEST each second until it succeeds, for at
# most a minute.
wait_until() {
	local what=$1
	shift
	for _ in $(seq 60); do
		if "$@"; then
			say "ok: $what"
			return 0
		fi
		sleep 1
	done
	say "FAILED: $what"
	for i in $(seq 0 $((nodes - 1))); do
		echo "--- logs of $name-$i"
		docker logs --tail 20 "$name-$i" 2>&1 || true
	done
	exit 1
}

heights() {
	local line="" i
	for i in $(seq 0 $((nodes - 1))); do
		line+=" $i:$(height "$i")"
	done
	echo "heights$line"
}

# all_at_least H SKIP: every replica but SKIP has height >= H.
all_at_least() {
	local i h
	for i in $(seq 0 $((nodes - 1))); do
		[ "$i" = "$2" ] && continue
		h=$(height "$i")
		[ -n "$h" ] && [ "$h" -ge "$1" ] || return 1
	done
}

# 4. Progress, a replica killed, and its recovery.
wait_until "all $nodes replicas execute (height >= 20)" all_at_least 20 none
heights
docker kill "$name-$victim" >/dev/null
say "killed $name-$victim (SIGKILL)"
base=$(height 0)
wait_until "the other $((nodes - 1)) go on (height >= $((base + 50)))" all_at_least $((base + 50)) "$victim"
heights
docker start "$name-$victim" >/dev/null
target=$(height 0)
say "started $name-$victim again, from its data; the others are at height $target"
caught_up() { h=$(height "$victim"); [ -n "$h" ] && [ "$h" -ge "$target" ]; }
wait_until "$name-$victim catches up (height >= $target)" caught_up
heights
say "passed"
