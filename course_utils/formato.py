"""Números a la española en las salidas de los cuadernos: «14 714 688», «0,857», «85,7 %».

Coma decimal y, en la parte entera, grupos de tres cifras separados por un espacio (el mismo espacio normal que
usan `resultados` y `widgets`). Como pide la Ortografía de la RAE, los números de cuatro cifras no se separan
(«3670»). Las funciones devuelven texto: para alinear una columna, `f"{formato.decimal(x, 3):>10}"`.
"""

from __future__ import annotations

import re

SEPARADOR_MILES = " "
_NUMERO = re.compile(r"([+-]?)(\d+)(.*)", re.DOTALL)


def _espanol(texto: str) -> str:
    """Pasa un número ya formateado por Python («-14714688.500») a la española («-14 714 688,500»)."""
    partes = _NUMERO.fullmatch(texto)
    if partes is None:  # nan, inf
        return texto
    signo, cifras, resto = partes.groups()
    if signo == "-" and not re.search(r"[1-9]", cifras + resto.split("e")[0]):
        signo = ""  # «-0,0» (un negativo que redondea a cero) se lee «0,0»
    if len(cifras) > 4:
        primero = len(cifras) % 3 or 3
        grupos = [cifras[:primero]] + [cifras[i : i + 3] for i in range(primero, len(cifras), 3)]
        cifras = SEPARADOR_MILES.join(grupos)
    return signo + cifras + resto.replace(".", ",")


def entero(n: int, signo: bool = False) -> str:
    """14714688 → «14 714 688»; con `signo=True`, también «+» en los positivos."""
    return _espanol(f"{int(n):{'+' if signo else ''}d}")


def decimal(x: float, decimales: int | None = None, signo: bool = False) -> str:
    """0.857 con 3 decimales → «0,857»; sin `decimales`, la forma corta de Python (0.999 → «0,999»)."""
    especificacion = "g" if decimales is None else f".{decimales}f"
    return _espanol(f"{float(x):{'+' if signo else ''}{especificacion}}")


def significativas(x: float, cifras: int = 4) -> str:
    """Con 4 cifras significativas: 0.000215432 → «0,0002154», 158 → «158»."""
    return _espanol(f"{float(x):.{cifras}g}")


def porcentaje(x: float, decimales: int = 0, signo: bool = False) -> str:
    """0.857 → «86 %»; con 1 decimal, «85,7 %» (espacio antes del signo, como pide la RAE)."""
    return _espanol(f"{float(x) * 100:{'+' if signo else ''}.{decimales}f}") + " %"


def cientifico(x: float, decimales: int = 2) -> str:
    """0.000215 → «2,15e-04», la notación científica de Python con coma decimal."""
    return _espanol(f"{float(x):.{decimales}e}")
