#!/usr/bin/env bash
# The site's browser test drives a headless Chromium from Debian/Ubuntu packages (Playwright downloads no browser).
# Installed with apt where that is possible; otherwise this says how to get it, and the browser test skips with
# that reason (under CI=true it fails instead).
set -uo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null; then exit 0; fi
done
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Chromium for the browser test (apt-get install chromium)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
  echo "apt-get could not install chromium" >&2
fi
echo "Chromium is missing, so the browser test of the site will be skipped: install it with your package manager" \
     "(Debian/Ubuntu: sudo apt-get install chromium) and run make test again."
exit 0
