"""Ejecución sin interfaz de los cuadernos con papermill, con progreso y resumen."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from course_utils.config import RAIZ_PROYECTO, resolver_modo

CARPETA_CUADERNOS = RAIZ_PROYECTO / "notebooks"
CARPETA_SALIDA = RAIZ_PROYECTO / "build"


def listar_cuadernos(todos: bool = False, carpeta: Path = CARPETA_CUADERNOS) -> list[Path]:
    """Cuadernos del curso en orden; con `todos`, también ejercicios y soluciones."""
    principales = sorted(carpeta.glob("[0-9][0-9]_*.ipynb"))
    if not todos:
        return principales
    return principales + sorted(carpeta.glob("ejercicios/*.ipynb")) + sorted(carpeta.glob("soluciones/*.ipynb"))


def ejecutar_cuaderno(cuaderno: Path, modo: str, salida_dir: Path = CARPETA_SALIDA, parametros=None) -> Path:
    """Ejecuta un cuaderno con papermill en su carpeta y guarda la copia ejecutada en `build/`."""
    import papermill

    relativa = cuaderno.relative_to(CARPETA_CUADERNOS) if cuaderno.is_relative_to(CARPETA_CUADERNOS) else cuaderno.name
    destino = salida_dir / relativa
    destino.parent.mkdir(parents=True, exist_ok=True)
    os.environ["CURSO_MODO"] = modo
    try:
        papermill.execute_notebook(
            str(cuaderno),
            str(destino),
            parameters={"MODO": modo, **(parametros or {})},
            cwd=str(cuaderno.parent),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
        )
    except papermill.PapermillExecutionError:
        if _errores_inesperados(destino):
            raise
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


def ejecutar_curso(modo: str, todos: bool = False, filtro: str = "") -> int:
    """Ejecuta todos los cuadernos, muestra el progreso y un resumen de tiempo y estado."""
    modo = resolver_modo(modo)
    cuadernos = [c for c in listar_cuadernos(todos) if filtro in c.name]
    resumen = []
    for i, cuaderno in enumerate(cuadernos, 1):
        print(f"[{i}/{len(cuadernos)}] {cuaderno.relative_to(RAIZ_PROYECTO)} (modo {modo})…", flush=True)
        inicio = time.perf_counter()
        try:
            ejecutar_cuaderno(cuaderno, modo)
            estado = "correcto"
        except Exception as exc:  # noqa: BLE001 - se informa y se sigue con el siguiente cuaderno
            estado = f"ERROR: {str(exc).strip().splitlines()[-1][:100] if str(exc).strip() else type(exc).__name__}"
        segundos = time.perf_counter() - inicio
        resumen.append((cuaderno.name, segundos, estado))
        print(f"    {estado} en {segundos:.1f} s", flush=True)
    print(f"\nResumen (modo {modo}; copias ejecutadas en {CARPETA_SALIDA.relative_to(RAIZ_PROYECTO)}/):")
    for nombre, segundos, estado in resumen:
        print(f"  {nombre:<45} {segundos:8.1f} s  {estado}")
    total = sum(s for _, s, _ in resumen)
    print(f"  {'TOTAL':<45} {total:8.1f} s")
    return 0 if all(e == "correcto" for _, _, e in resumen) else 1
