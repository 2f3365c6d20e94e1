"""Los números de las salidas se leen a la española: «14 714 688», «0,857», «85,7 %»."""

import math

import pytest

from course_utils import formato


@pytest.mark.parametrize(
    ("n", "esperado"),
    [
        (14714688, "14 714 688"),
        (25088, "25 088"),
        (3670, "3670"),  # cuatro cifras: sin separar
        (999, "999"),
        (0, "0"),
        (-1234567, "-1 234 567"),
        (100000, "100 000"),
    ],
)
def test_entero(n, esperado):
    assert formato.entero(n) == esperado


def test_entero_acepta_enteros_de_numpy_y_signo():
    class EnteroRaro:  # como np.int64: se convierte con int()
        def __int__(self):
            return 12345

    assert formato.entero(EnteroRaro()) == "12 345"
    assert formato.entero(12345, signo=True) == "+12 345"
    assert formato.entero(-5, signo=True) == "-5"


@pytest.mark.parametrize(
    ("x", "decimales", "esperado"),
    [
        (0.857, 3, "0,857"),
        (0.8571, 2, "0,86"),
        (12345.678, 1, "12 345,7"),
        (1234.5, 1, "1234,5"),
        (-0.25, 2, "-0,25"),
        (56.6, 0, "57"),
        (0.999, None, "0,999"),
        (1e-05, None, "1e-05"),
        (0.001, None, "0,001"),
    ],
)
def test_decimal(x, decimales, esperado):
    assert formato.decimal(x, decimales) == esperado


def test_decimal_con_signo_y_sin_numero():
    assert formato.decimal(0.125, 3, signo=True) == "+0,125"
    assert formato.decimal(-0.1, 2, signo=True) == "-0,10"
    assert formato.decimal(math.nan, 2) == "nan"
    assert formato.decimal(-math.inf, 2) == "-inf"


def test_decimal_coincide_con_python_salvo_la_coma():
    for x in (0.0, 0.004, 0.5, 3.14159, 999.99, -42.125):  # menos de cinco cifras enteras
        for d in (0, 1, 2, 3):
            assert formato.decimal(x, d) == f"{x:.{d}f}".replace(".", ",")


def test_porcentaje_y_cientifico():
    assert formato.porcentaje(0.857) == "86 %"
    assert formato.porcentaje(0.857, 1) == "85,7 %"
    assert formato.porcentaje(0.25) == f"{0.25:.0%}".replace("%", " %")
    assert formato.porcentaje(0.031, 1, signo=True) == "+3,1 %"
    assert formato.cientifico(0.000215) == "2,15e-04"
    assert formato.cientifico(12.0, 1) == "1,2e+01"
    assert formato.significativas(0.000215432) == "0,0002154"
    assert formato.significativas(158) == "158"
    assert formato.significativas(123456789.0) == "1,235e+08"


def test_alinea_como_una_columna():
    assert f"{formato.decimal(0.857, 3):>10}" == f"{0.857:>10.3f}".replace(".", ",")
    assert f"{formato.entero(14714688):>12}" == "  14 714 688"


def test_un_negativo_que_redondea_a_cero_no_lleva_signo():
    assert formato.decimal(-0.04, 1) == "0,0"
    assert formato.decimal(-0.4, 1) == "-0,4"
    assert formato.porcentaje(-0.001) == "0 %"
