"""Ejecución sin interfaz de los cuadernos con papermill, con progreso y resumen."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from course_utils import formato, terminal
from course_utils.config import RAIZ_PROYECTO, resolver_modo

CARPETA_CUADERNOS = RAIZ_PROYECTO / "notebooks"
CARPETA_SALIDA = RAIZ_PROYECTO / "build"
# Segundos que puede tardar UNA celda antes de dar el cuaderno por colgado. En modo rápido la más lenta (la
# rejilla del 06) tarda menos de 2 min en la CPU de 2 núcleos de la CI, aun con carga: 600 s dejan margen de sobra.
# En clase y completo una celda puede entrenar largo rato: sin límite.
TIMEOUT_CELDA_S = {"rapido": 600}
VARIABLE_TIMEOUT = "CURSO_TIMEOUT_CELDA"


class CuadernoColgado(TimeoutError):
    """Una celda pasó del tiempo máximo (`timeout_celda`): el kernel se para y el cuaderno falla."""


def timeout_celda(modo: str) -> int | None:
    """Tiempo máximo por celda en segundos (None: sin límite); CURSO_TIMEOUT_CELDA lo fija en todos los modos.

    CURSO_TIMEOUT_CELDA=0 quita el límite.
    """
    valor = os.environ.get(VARIABLE_TIMEOUT, "").strip()
    if not valor:
        return TIMEOUT_CELDA_S.get(modo)
    try:
        segundos = int(valor)
    except ValueError:
        raise ValueError(
            f"{VARIABLE_TIMEOUT}={valor!r} no es válido: pon un número entero de segundos (0: sin límite)."
        ) from None
    return segundos if segundos > 0 else None


def listar_cuadernos(todos: bool = False, carpeta: Path = CARPETA_CUADERNOS) -> list[Path]:
    """Cuadernos del curso en orden; con `todos`, también ejercicios y soluciones."""
    principales = sorted(carpeta.glob("[0-9][0-9]_*.ipynb"))
    if not todos:
        return principales
    return principales + sorted(carpeta.glob("ejercicios/*.ipynb")) + sorted(carpeta.glob("soluciones/*.ipynb"))


def ejecutar_cuaderno(
    cuaderno: Path, modo: str, salida_dir: Path = CARPETA_SALIDA, parametros=None, depurar: bool = False
) -> Path:
    """Ejecuta un cuaderno con papermill en su carpeta y guarda la copia ejecutada en `build/`.

    Cada celda tiene un tiempo máximo (`timeout_celda`): un kernel colgado hace fallar el cuaderno con
    `CuadernoColgado` en vez de dejar la ejecución (o la CI) esperando para siempre. El ruido de arranque de
    TensorFlow en el kernel no llega a la terminal, salvo con `depurar`.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError

    relativa = cuaderno.relative_to(CARPETA_CUADERNOS) if cuaderno.is_relative_to(CARPETA_CUADERNOS) else cuaderno.name
    destino = salida_dir / relativa
    destino.parent.mkdir(parents=True, exist_ok=True)
    os.environ["CURSO_MODO"] = modo
    limite = timeout_celda(modo)
    try:
        with contextlib.nullcontext() if depurar else terminal.stderr_sin_ruido():  # el resto sale al final
            papermill.execute_notebook(
                str(cuaderno),
                str(destino),
                parameters={"MODO": modo, **(parametros or {})},
                cwd=str(cuaderno.parent),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                execution_timeout=limite,
                extra_arguments=["--IPKernelApp.log_level=ERROR"],  # sin el aviso en inglés de ipykernel 7 (TCP)
            )
    except papermill.PapermillExecutionError:
        if _errores_inesperados(destino):
            raise
    except CellTimeoutError as exc:
        raise CuadernoColgado(
            f"{cuaderno.name}: una celda pasó de {limite} s sin terminar y se ha parado el kernel "
            f"(modo {modo}; cambia el límite con {VARIABLE_TIMEOUT}=SEGUNDOS, 0 = sin límite). "
            f"Copia parcial en {destino}."
        ) from exc
    return destino


def _errores_inesperados(destino: Path) -> int:
    """Celdas con error que no llevan la etiqueta `raises-exception` (las autocomprobaciones sí la llevan)."""
    celdas = json.loads(destino.read_text(encoding="utf-8"))["cells"]
    return sum(
        1
        for c in celdas
        if any(o.get("output_type") == "error" for o in c.get("outputs", []))
        and "raises-exception" not in c.get("metadata", {}).get("tags", [])
    )


def ejecutar_curso(modo: str, todos: bool = False, filtro: str = "", depurar: bool = False) -> int:
    """Ejecuta todos los cuadernos, muestra el progreso y un resumen de tiempo y estado."""
    modo = resolver_modo(modo)
    cuadernos = [c for c in listar_cuadernos(todos) if filtro in c.name]
    resumen = []
    for i, cuaderno in enumerate(cuadernos, 1):
        print(f"[{i}/{len(cuadernos)}] {cuaderno.relative_to(RAIZ_PROYECTO)} (modo {modo})…", flush=True)
        inicio = time.perf_counter()
        try:
            ejecutar_cuaderno(cuaderno, modo, depurar=depurar)
            estado = "correcto"
        except Exception as exc:  # noqa: BLE001 - se informa y se sigue con el siguiente cuaderno
            estado = f"ERROR: {str(exc).strip().splitlines()[-1][:100] if str(exc).strip() else type(exc).__name__}"
        segundos = time.perf_counter() - inicio
        resumen.append((cuaderno.name, segundos, estado))
        print(f"    {estado} en {formato.decimal(segundos, 1)} s", flush=True)
    print(f"\nResumen (modo {modo}; copias ejecutadas en {CARPETA_SALIDA.relative_to(RAIZ_PROYECTO)}/):")
    for nombre, segundos, estado in resumen:
        print(f"  {nombre:<45} {formato.decimal(segundos, 1):>8} s  {estado}")
    total = sum(s for _, s, _ in resumen)
    print(f"  {'TOTAL':<45} {formato.decimal(total, 1):>8} s")
    return 0 if all(e == "correcto" for _, _, e in resumen) else 1
