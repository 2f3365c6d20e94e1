"""Ejecuta cada cuaderno de `notebooks/` en modo rápido con papermill (los nuevos se recogen solos)."""

import os
from pathlib import Path

import pytest

from course_utils import ejecucion

CUADERNOS = ejecucion.listar_cuadernos(todos=True)


@pytest.fixture(scope="session")
def resultados_compartidos(tmp_path_factory):
    """Una sola carpeta de resultados para toda la sesión: el cuaderno 06 lee lo que registran los anteriores."""
    return tmp_path_factory.mktemp("resultados")


def test_hay_cuadernos():
    assert len(CUADERNOS) >= 2


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=lambda p: p.relative_to(ejecucion.CARPETA_CUADERNOS).as_posix())
def test_cuaderno_se_ejecuta_en_modo_rapido(cuaderno: Path, resultados_compartidos, tmp_path, monkeypatch):
    monkeypatch.setenv("CURSO_MODO", "rapido")
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(resultados_compartidos))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    salida = Path(os.environ.get("CURSO_BUILD_DIR", tmp_path))
    destino = ejecucion.ejecutar_cuaderno(cuaderno, "rapido", salida)
    assert destino.exists()
