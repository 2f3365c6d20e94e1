"""La primera celda de código de cada cuaderno prepara el curso en Google Colab y fuera de Colab no hace nada.

La celda se extrae de cada cuaderno y se ejecuta con `exec`: una vez sin `google.colab` (no debe llamar a
nada ni cambiar archivos, variables de entorno o carpeta) y otra con un módulo `google.colab` simulado
(con un `drive.mount` falso) y `subprocess` interceptado, para comprobar que clona, instala, monta Drive
si se pide y se coloca en la carpeta del cuaderno, como dice la sección «Colab con GPU» del README.
"""

import json
import os
import site
import subprocess
import sys
import types
from pathlib import Path

import pytest

from course_utils import ejecucion

CUADERNOS = ejecucion.listar_cuadernos(todos=True, carpeta=ejecucion.CARPETA_CUADERNOS)
MARCA = "# Celda de Google Colab."
REPO_PRUEBA = "https://github.com/profe/curso-transfer.git"


def _id(ruta: Path) -> str:
    return ruta.relative_to(ejecucion.CARPETA_CUADERNOS).as_posix()


def celda_colab(cuaderno: Path) -> str:
    """El código de la celda de Colab, que debe ser la primera celda de código del cuaderno."""
    celdas = json.loads(cuaderno.read_text(encoding="utf-8"))["cells"]
    primera = next((c for c in celdas if c["cell_type"] == "code"), None)
    assert primera is not None, f"{_id(cuaderno)}: no tiene celdas de código"
    fuente = "".join(primera["source"])
    assert fuente.startswith(MARCA), (
        f"{_id(cuaderno)}: la primera celda de código no es la celda de Colab (debe empezar por {MARCA!r})"
    )
    assert "parameters" not in primera.get("metadata", {}).get("tags", [])
    return fuente


class Llamadas:
    """Registra lo que la celda intenta hacer en vez de hacerlo."""

    def __init__(self):
        self.todas = []

    def registrar(self, nombre):
        def falsa(*args, **kwargs):
            self.todas.append((nombre, args, kwargs))
            return subprocess.CompletedProcess(args[0] if args else [], 0) if nombre.startswith("subprocess") else None

        return falsa

    def de(self, nombre):
        return [(a, k) for n, a, k in self.todas if n == nombre]


@pytest.fixture
def llamadas(monkeypatch):
    """Intercepta subprocess, os.chdir, os.makedirs y site.addsitedir: la celda no puede tocar nada."""
    registro = Llamadas()
    for nombre in ("run", "check_call", "call", "check_output", "Popen"):
        monkeypatch.setattr(subprocess, nombre, registro.registrar(f"subprocess.{nombre}"))
    monkeypatch.setattr(os, "system", registro.registrar("os.system"))
    monkeypatch.setattr(os, "chdir", registro.registrar("os.chdir"))
    monkeypatch.setattr(os, "makedirs", registro.registrar("os.makedirs"))
    monkeypatch.setattr(site, "addsitedir", registro.registrar("site.addsitedir"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return registro


@pytest.fixture
def colab_simulado(monkeypatch, llamadas):
    """Un módulo `google.colab` con `drive.mount` falso, como el que importa el núcleo de Colab."""
    import google  # el paquete de espacio de nombres de protobuf (viene con TensorFlow)

    modulo = types.ModuleType("google.colab")
    modulo.drive = types.SimpleNamespace(mount=llamadas.registrar("drive.mount"))
    monkeypatch.setitem(sys.modules, "google.colab", modulo)
    monkeypatch.setattr(google, "colab", modulo, raising=False)
    return modulo


def _ejecutar(fuente: str, **cambios) -> dict:
    for nombre, valor in cambios.items():
        lineas = [ln for ln in fuente.splitlines() if ln.startswith(f"{nombre} = ")]
        assert len(lineas) == 1, f"la celda debe definir {nombre} en una sola línea"
        fuente = fuente.replace(lineas[0], f"{nombre} = {valor!r}")
    espacio = {"__name__": "__main__"}
    exec(compile(fuente, "<celda de Colab>", "exec"), espacio)
    return espacio


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_la_primera_celda_de_codigo_es_la_de_colab(cuaderno):
    fuente = celda_colab(cuaderno)
    assert not [ln for ln in fuente.splitlines() if ln.lstrip().startswith(("!", "%"))], "sin magias de IPython"
    carpeta = next(ln for ln in fuente.splitlines() if ln.startswith("CARPETA_CUADERNO = "))
    esperada = cuaderno.parent.relative_to(ejecucion.CARPETA_CUADERNOS.parent).as_posix()
    assert carpeta.split("#")[0].strip() == f"CARPETA_CUADERNO = {json.dumps(esperada)}"
    assert 'REPOSITORIO = "https://github.com/' in fuente


@pytest.fixture
def en_carpeta_vacia(monkeypatch, tmp_path):
    """Trabaja en una carpeta vacía (antes de interceptar os.chdir) para ver si la celda crea algo."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_fuera_de_colab_no_hace_nada(cuaderno, en_carpeta_vacia, llamadas, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", None)  # `import google.colab` falla, como fuera de Colab
    entorno, carpeta, camino = dict(os.environ), os.getcwd(), list(sys.path)
    espacio = _ejecutar(celda_colab(cuaderno))
    assert llamadas.todas == []
    assert dict(os.environ) == entorno and os.getcwd() == carpeta and sys.path == camino
    assert list(en_carpeta_vacia.iterdir()) == []
    assert espacio["drive_colab"] is None


def test_en_colab_clona_instala_y_entra_en_la_carpeta_del_cuaderno(colab_simulado, llamadas, monkeypatch):
    monkeypatch.setattr(os.path, "isdir", lambda ruta: False)  # aún no está clonado
    cuaderno = ejecucion.CARPETA_CUADERNOS / "ejercicios" / "02_cnn_desde_cero.ipynb"
    _ejecutar(celda_colab(cuaderno), REPOSITORIO=REPO_PRUEBA)
    raiz = "/content/curso-transfer"
    ordenes = [a[0] for a, _ in llamadas.de("subprocess.run")]
    assert ordenes == [
        ["git", "clone", "--depth", "1", REPO_PRUEBA, raiz],
        [sys.executable, "-m", "pip", "install", "-q", "-r", "requirements.txt"],
    ]
    assert llamadas.de("subprocess.run")[1][1]["cwd"] == raiz  # requirements.txt instala también `-e .`
    assert all(k.get("check") for _, k in llamadas.de("subprocess.run"))  # un fallo para la celda
    assert llamadas.de("drive.mount") == [] and "KERAS_HOME" not in os.environ  # CURSO_DRIVE = False
    assert len(llamadas.de("site.addsitedir")) == 1  # el paquete recién instalado, sin reiniciar
    assert llamadas.de("os.chdir") == [((f"{raiz}/notebooks/ejercicios",), {})]


def test_en_colab_con_drive_monta_y_guarda_alli_los_pesos(colab_simulado, llamadas, monkeypatch):
    monkeypatch.setattr(os.path, "isdir", lambda ruta: ruta.endswith("/.git"))  # ya clonado: no se repite
    cuaderno = ejecucion.CARPETA_CUADERNOS / "06_comparativa.ipynb"
    _ejecutar(celda_colab(cuaderno), REPOSITORIO=REPO_PRUEBA, CURSO_DRIVE=True)
    assert [a[0][:3] for a, _ in llamadas.de("subprocess.run")] == [[sys.executable, "-m", "pip"]]  # sin clonar
    assert llamadas.de("drive.mount") == [(("/content/drive",), {})]
    keras_home = "/content/drive/MyDrive/curso_transfer_learning/keras"
    assert os.environ["KERAS_HOME"] == keras_home
    assert llamadas.de("os.makedirs") == [((keras_home,), {"exist_ok": True})]
    assert llamadas.de("os.chdir") == [(("/content/curso-transfer/notebooks",), {})]


def test_en_colab_sin_cambiar_el_repositorio_avisa_en_espanol(colab_simulado, llamadas):
    with pytest.raises(RuntimeError, match="Cambia REPOSITORIO"):
        _ejecutar(celda_colab(CUADERNOS[0]))
    assert llamadas.todas == []
