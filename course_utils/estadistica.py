"""Estadística de las comparaciones: margen de error de una exactitud y prueba de McNemar exacta pareada."""

from __future__ import annotations

import math

from course_utils import formato


def margen_error(exactitud: float, n: int) -> float:
    """Semiamplitud aproximada del intervalo del 95 % de una exactitud medida con n imágenes."""
    if n <= 0:
        return float("nan")
    p = min(max(exactitud, 1 / n), 1 - 1 / n)  # evita un margen cero con 0 % o 100 %
    return 1.96 * math.sqrt(p * (1 - p) / n)


def mcnemar_exacta(aciertos_a: str, aciertos_b: str) -> tuple[int, int, float]:
    """Prueba de McNemar exacta entre dos modelos evaluados sobre las MISMAS imágenes de prueba.

    `aciertos_*` son cadenas de «1» (acierto) y «0» (fallo) en el mismo orden. Solo cuentan las
    imágenes en las que discrepan: b = acierta A y falla B, c = falla A y acierta B. Si los dos
    modelos fueran igual de buenos, cada discrepancia sería una moneda al aire (binomial n = b + c,
    p = 1/2); el p-valor es la probabilidad bilateral de un reparto tan desigual. Devuelve (b, c, p).
    """
    if len(aciertos_a) != len(aciertos_b):
        raise ValueError(
            f"McNemar necesita las mismas imágenes de prueba: hay {len(aciertos_a)} y {len(aciertos_b)} aciertos. "
            "Compara modelos evaluados con la misma partición y el mismo modo."
        )
    b = sum(x == "1" and y == "0" for x, y in zip(aciertos_a, aciertos_b, strict=True))
    c = sum(x == "0" and y == "1" for x, y in zip(aciertos_a, aciertos_b, strict=True))
    n = b + c
    cola = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n if n else 1.0
    return b, c, min(1.0, 2 * cola)


def comparar(a: dict, b: dict, alfa: float = 0.05) -> tuple[int, str]:
    """(+1, -1 o 0, texto): si `a` supera a `b`, queda por debajo o no se distinguen (McNemar, p < alfa)."""
    ya, yb = a.get("aciertos_prueba"), b.get("aciertos_prueba")
    if not ya or not yb or len(ya) != len(yb):
        return (0, "sin aciertos por imagen comparables: no se puede aplicar la prueba pareada")
    ganan, pierden, p = mcnemar_exacta(ya, yb)
    valor_p = "p < 0,001" if p < 0.001 else f"p = {formato.decimal(p, 3)}"
    texto = f"McNemar: {_imagenes(ganan)} a favor y {pierden} en contra, {valor_p}"
    return (0 if p >= alfa else 1 if ganan > pierden else -1), texto


def _imagenes(n: int) -> str:
    return f"{n} imagen" if n == 1 else f"{n} imágenes"
