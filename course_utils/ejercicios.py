"""Autocomprobaciones de los ejercicios con pistas en español (cuadernos de ejercicios)."""

from __future__ import annotations


class EjercicioIncompleto(AssertionError):
    """La comprobación no se cumple: el mensaje es una pista, no la solución (ejercicios)."""


def comprobar(condicion: bool, pista: str, exito: str = "¡Correcto!") -> None:
    """Lanza `EjercicioIncompleto` con una pista si la condición falla; si no, felicita (ejercicios)."""
    if not condicion:
        raise EjercicioIncompleto(f"Todavía no. Pista: {pista}")
    print(f"✔ {exito}")


def pendiente(valor) -> bool:
    """Indica si el alumno aún no ha rellenado un hueco marcado con `...` o `None` (ejercicios)."""
    return valor is Ellipsis or valor is None
