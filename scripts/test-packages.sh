#!/usr/bin/env bash
# Debian packages the media and interop tests drive (test/interop, test/audio, <Say>):
# baresip, sipp (package sip-tester), sox, lame (the MP3s of the <Play> tests), espeak-ng,
# ip (iproute2), kamailio (deploy/kamailio's SIP front, which the tests start themselves),
# dnsmasq-base (the DNS server of the RFC 3263 tests, test/helpers/dnsmasq.ts: the program
# alone, without the `dnsmasq` package's system service, so nothing is left listening on 53),
# chromium (the browser playwright-core drives in the console's end-to-end test, test/console;
# Playwright's own browser download does not work here).
# Run before `npm test` (its pretest) and by .ci/run. Installed only when missing, so a warm
# machine pays one dpkg query; a failed install stops here with apt's log.
# Needs root (the interop tests make network namespaces, which need root too).
set -euo pipefail
ci_packages=(baresip-core sip-tester sox lame espeak-ng iproute2 kamailio dnsmasq-base chromium)
missing_packages=()
for pkg in "${ci_packages[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing_packages+=("$pkg")
done
if ((${#missing_packages[@]} > 0)); then
  echo "test-packages: installing ${missing_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_log="$(mktemp)"
  if ! { apt-get update -qq && apt-get install -y -qq "${missing_packages[@]}"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    echo "test-packages: apt-get install ${missing_packages[*]} failed" >&2
    exit 1
  fi
  rm -f "$apt_log"
  # Debian starts the kamailio service it installs, with its sample config on every address's
  # port 5060 (Conclave's default SIP port). The tests run their own Kamailio; a service this
  # script just installed is stopped and disabled again, so the machine is as it was.
  if [[ " ${missing_packages[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null && systemctl is-enabled --quiet kamailio 2>/dev/null; then
    systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
fi

