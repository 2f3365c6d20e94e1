"""El tiempo máximo por celda de `ejecucion.ejecutar_cuaderno`: un kernel colgado falla pronto y en español."""

import time

import nbformat
import pytest

from course_utils import ejecucion


def test_limite_por_defecto_solo_en_modo_rapido(monkeypatch):
    monkeypatch.delenv("CURSO_TIMEOUT_CELDA", raising=False)
    assert ejecucion.timeout_celda("rapido") == ejecucion.TIMEOUT_CELDA_S["rapido"]
    assert ejecucion.timeout_celda("clase") is None and ejecucion.timeout_celda("completo") is None


@pytest.mark.parametrize(("valor", "esperado"), [("45", 45), (" 7 ", 7), ("0", None), ("-1", None)])
def test_la_variable_manda_en_todos_los_modos(monkeypatch, valor, esperado):
    monkeypatch.setenv("CURSO_TIMEOUT_CELDA", valor)
    assert ejecucion.timeout_celda("rapido") == ejecucion.timeout_celda("clase") == esperado


def test_valor_no_numerico_da_error_claro(monkeypatch):
    monkeypatch.setenv("CURSO_TIMEOUT_CELDA", "diez")
    with pytest.raises(ValueError, match="CURSO_TIMEOUT_CELDA='diez' no es válido.*segundos"):
        ejecucion.timeout_celda("rapido")


def test_una_celda_colgada_para_el_cuaderno(monkeypatch, tmp_path):
    cuaderno = tmp_path / "colgado.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("MODO = 'rapido'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import time\ntime.sleep(600)")]  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, cuaderno)
    monkeypatch.setenv("CURSO_TIMEOUT_CELDA", "3")
    monkeypatch.setenv("CURSO_MODO", "rapido")  # ejecutar_cuaderno la fija para el kernel
    inicio = time.monotonic()
    with pytest.raises(ejecucion.CuadernoColgado, match="colgado.ipynb: una celda pasó de 3 s.*CURSO_TIMEOUT_CELDA"):
        ejecucion.ejecutar_cuaderno(cuaderno, "rapido", tmp_path / "build")
    assert time.monotonic() - inicio < 120
