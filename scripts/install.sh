# Sourced by scripts/run and scripts/test: install what wgsiem needs on a fresh machine.
#   - Debian packages (as root): wireguard-tools and wireguard-go for the tunnel lab,
#     iproute2 for network namespaces, iputils-ping to make handshakes happen, openssl
#     for the test certificate of the Kibana import client's TLS test, maven to fetch
#     the test Elasticsearch, chromium for the `browser` tests (the HTML report opened
#     headless, offline), prometheus for the `prometheus` tests (a real Prometheus
#     scraping `ship --metrics-listen`, and promtool on deploy/prometheus/), conntrack
#     and nftables for the lab's connection tracking (real `conntrack -E` events in a
#     namespace, NAT with nft; wgsiem/lab/conntrack.py).
#   - A virtualenv in .venv with wgsiem and its test dependencies (pip, from PyPI).
#   - For the tests: Elasticsearch's integ-test-zip distribution from Maven Central,
#     unpacked by `python -m wgsiem.lab es-install` (wgsiem/lab/esnode.py); it runs on
#     the machine's JDK 21+ (a Temurin JDK in /usr/lib/jvm, or $ES_JAVA_HOME).
# Idempotent: a second run installs nothing new.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WGSIEM_VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_system_packages() {
    local missing=()
    command -v wg >/dev/null || missing+=(wireguard-tools)
    command -v wireguard-go >/dev/null || missing+=(wireguard-go)
    command -v ip >/dev/null || missing+=(iproute2)
    command -v ping >/dev/null || missing+=(iputils-ping)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v mvn >/dev/null || missing+=(maven)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v promtool >/dev/null || missing+=(prometheus)
    command -v conntrack >/dev/null || missing+=(conntrack)
    command -v nft >/dev/null || missing+=(nftables)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "not root: cannot install ${missing[*]} (the tunnel lab, conntrack, browser and prometheus tests need them)"
        return 0
    fi
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends: wireguard-tools recommends a whole kernel image, chromium a
    # desktop's worth of fonts and helpers that headless rendering does without, prometheus
    # its node exporter. The tests start Prometheus themselves (no service is run).
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.wgsiem-installed"
    if [ ! -f "$stamp" ] || [ "$REPO/pyproject.toml" -nt "$stamp" ]; then
        say "installing wgsiem and its dependencies into $VENV (pip)"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO[test]"
        touch "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

install_elasticsearch() {
    say "provisioning the test Elasticsearch (Maven Central)"
    "$VENV/bin/python" -m wgsiem.lab es-install
}
