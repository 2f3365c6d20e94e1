#!/usr/bin/env bash
# Instala lo que necesita tests/test_navegador.py: Chromium de Debian y Playwright (solo la biblioteca de
# Python: usa /usr/bin/chromium, nunca descarga su propio navegador). Idempotente. Uso: instalar_navegador.sh VENV
set -euo pipefail
VERSION_PLAYWRIGHT="1.65.2"
VENV="${1:?Uso: $0 CARPETA_DEL_ENTORNO_VIRTUAL (por ejemplo .venv)}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "ERROR: no existe $VENV/bin/python; crea antes el entorno virtual." >&2
  exit 1
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "Instalando Chromium de Debian…"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null

if ! "$VENV/bin/python" -c "import playwright, importlib.metadata as m, sys; sys.exit(m.version('playwright') != '$VERSION_PLAYWRIGHT')" 2>/dev/null; then
  echo "Instalando playwright==$VERSION_PLAYWRIGHT en $VENV…"
  "$VENV/bin/python" -m pip install --quiet "playwright==$VERSION_PLAYWRIGHT"
fi
"$VENV/bin/python" -c "import importlib.metadata as m; print('playwright', m.version('playwright'))"
