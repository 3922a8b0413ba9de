#!/usr/bin/env bash
# Installs the Debian 12 packages synfin needs to build and test, when missing.
# As root it installs them with apt-get (non-interactive, so tshark's debconf
# question cannot block); otherwise it prints exactly what is missing and fails.
# Usage: scripts/deps.sh [build|check|bench|docs|all]   (default: check)
set -euo pipefail
what=${1:-check}
build=(cmake make gcc pkg-config libpcap-dev node-llhttp clang-format)
# Everything any test in `make check` looks for: a missing one would make a
# test skip, and under CI a skip is a failure (scripts/ctest-summary.py).
# The arm packages: the Cortex-M4 cross-build (bench.footprint). bc and
# procps (sysctl) are in a full Debian install but not in a minimal one (a
# container): kernel_client_http.sh and threads.sh add with bc, and
# common.bash and ecn.sh set sysctls.
check=(libcmocka-dev clang libclang-rt-14-dev tshark tcpdump python3 python3-scapy iproute2
       iputils-ping curl libxml2-utils netcat-openbsd util-linux coreutils liblwip-dev ethtool
       python3-prometheus-client chromium chromium-driver python3-selenium fonts-wqy-zenhei
       gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-user doxygen bc procps
       libbpf-dev bpftool)
docs=(doxygen)
bench=(liblwip-dev ethtool nginx-light wrk gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-user)
case "$what" in
build) want=("${build[@]}") ;;
check) want=("${build[@]}" "${check[@]}") ;;
bench) want=("${build[@]}" "${bench[@]}") ;;
docs) want=("${docs[@]}") ;;
all) want=("${build[@]}" "${check[@]}" "${bench[@]}" "${docs[@]}") ;;
*) echo "usage: $0 [build|check|bench|docs|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$st" == "install ok installed" ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "synfin: missing Debian packages: ${missing[*]}" >&2
	echo "synfin: install them as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "synfin: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
