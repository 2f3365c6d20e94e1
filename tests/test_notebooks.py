"""Ejecuta cada cuaderno de `notebooks/` en modo rápido con papermill (los nuevos se recogen solos)."""

import json
import os
from pathlib import Path

import pytest

from course_utils import ejecucion

pytestmark = pytest.mark.cuadernos

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
    if cuaderno.parent.name == "ejercicios":
        _comprobaciones_fallan_sin_resolver(destino)


def _comprobaciones_fallan_sin_resolver(destino: Path) -> None:
    """En un cuaderno de ejercicios sin resolver, cada autocomprobación debe fallar con una pista."""
    celdas = json.loads(destino.read_text(encoding="utf-8"))["cells"]
    marcadas = [c for c in celdas if "raises-exception" in c.get("metadata", {}).get("tags", [])]
    assert marcadas, f"{destino.name}: no hay autocomprobaciones (celdas con la etiqueta raises-exception)"
    for celda in marcadas:
        errores = [s for s in celda.get("outputs", []) if s.get("output_type") == "error"]
        assert errores and errores[0]["ename"] == "EjercicioIncompleto", (
            f"{destino.name}: una autocomprobación no falla sin resolver el ejercicio:\n{''.join(celda['source'])[:200]}"
        )
