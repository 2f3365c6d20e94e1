"""Línea de órdenes del curso: `python -m course_utils ORDEN ...`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _ejecutar(args) -> int:
    from course_utils import ejecucion

    return ejecucion.ejecutar_curso(args.modo, todos=args.todos, filtro=args.filtro)


def _inspeccionar(args) -> int:
    from course_utils import inspeccion

    try:
        informe = inspeccion.inspeccionar(args.ruta, tam_minimo=args.tam_minimo, minimo_por_clase=args.minimo)
    except inspeccion.DatosInvalidos as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(informe.texto(max_por_seccion=args.maximo))
    return 0 if informe.utilizable else 2


def _descargar(args) -> int:
    from course_utils import arquitecturas, datos
    from course_utils.config import obtener_config

    config = obtener_config()
    destino = Path(args.destino) if args.destino else None
    hacer_todo = not args.datos and not args.pesos
    if args.datos or hacer_todo:
        ruta = datos.descargar_flores(destino or config.datos_dir)
        print(f"Datos listos y verificados en {ruta}")
    if args.pesos or hacer_todo:
        carpeta = destino or config.pesos_dir or Path.home() / ".keras" / "models"
        nombres = args.arquitecturas or arquitecturas.NOMBRES
        for ruta in arquitecturas.descargar_pesos(carpeta, nombres):
            print(f"  {ruta}")
        print(f"Pesos listos en {carpeta}. Para trabajar sin red: CURSO_PESOS_DIR={carpeta}")
    return 0


def _experimentos(args) -> int:
    import matplotlib

    from course_utils import datos, rejilla, resultados

    matplotlib.use("Agg")
    try:
        informe = rejilla.ejecutar_rejilla(
            args.modo,
            arquitecturas_elegidas=args.arquitecturas or None,
            estrategias=args.estrategias or None,
            curva=bool(args.curva),
            carpeta=args.carpeta,
        )
    except (ValueError, datos.DatosNoDisponibles, datos.DatosInvalidos) as exc:
        print(f"ERROR: {exc}")
        return 2
    print()
    print(resultados.tabla_pivote_markdown(informe.filas))
    return 0 if informe.registros else 1


def _entrenar(args) -> int:
    from course_utils import arquitecturas, datos, estrategias, exportacion
    from course_utils.config import obtener_config

    desde_cero = args.estrategia == "desde_cero"
    try:
        nombre = estrategias.ARQ_DESDE_CERO if desde_cero else arquitecturas.obtener(args.arquitectura).nombre
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    salida = Path(args.salida)
    if salida.suffix != ".keras" or (salida.exists() and not args.sobrescribir):
        motivo = "debe terminar en .keras" if salida.suffix != ".keras" else "ya existe (añade --sobrescribir)"
        print(f"ERROR: el archivo de salida {salida} {motivo}.", file=sys.stderr)
        return 2
    config = obtener_config(args.modo, epocas=args.epocas)
    try:
        conjunto = datos.cargar_carpeta(args.ruta, config)
    except datos.DatosInvalidos as exc:
        print(f"{exc}\nERROR: la carpeta {args.ruta} no se puede usar para entrenar.", file=sys.stderr)
        return 2
    print(conjunto.resumen())
    print(f"Entrenando: {estrategias.titulo_red(nombre)} · {estrategias.NOMBRES_ESTRATEGIA[args.estrategia]} "
          f"· modo {config.modo}")  # fmt: skip
    try:
        nombre, tam, resultado = estrategias.entrenar_receta(
            nombre, args.estrategia, conjunto, config, etiqueta="entrenar_cli"
        )
    except (arquitecturas.PesosNoDisponibles, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    registro = resultado.registro
    ruta = exportacion.exportar(
        resultado.modelo, salida, clases=conjunto.clases, arquitectura=nombre, tam=tam,
        estrategia=args.estrategia, registro=registro, sobrescribir=args.sobrescribir,
    )  # fmt: skip
    print(f"Exactitud en prueba: {registro['test_accuracy']:.3f} ({registro['imagenes_prueba']} imágenes de prueba)")
    if config.rapido:
        print("Modo rápido: la exactitud es solo orientativa.")
    if not desde_cero and registro["pesos"] == "aleatorios":
        print("AVISO: la base usó pesos ALEATORIOS: este modelo no aprovecha el aprendizaje por transferencia.")
    print(f"Modelo guardado en {ruta}")
    print(f"Para predecir: python -m course_utils predecir {ruta} CARPETA_O_IMAGEN")
    return 0


def _predecir(args) -> int:
    from course_utils import exportacion
    from course_utils.inspeccion import DatosInvalidos

    try:
        modelo, metadatos = exportacion.cargar_exportado(args.modelo)
        resultados = exportacion.predecir((modelo, metadatos), args.ruta)
    except (FileNotFoundError, exportacion.ModeloNoValido, DatosInvalidos) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(f"Modelo: {args.modelo} · red {metadatos['arquitectura']} · clases: {', '.join(metadatos['clases'])}")
    print(exportacion.tabla_predicciones(resultados, args.ruta))
    return 0 if any("error" not in r for r in resultados) else 2


def construir_parser() -> argparse.ArgumentParser:
    """Define las órdenes y sus opciones."""
    p = argparse.ArgumentParser(prog="python -m course_utils", description="Herramientas del curso.")
    sub = p.add_subparsers(dest="orden", required=True)
    modos = ("rapido", "clase", "completo")

    e = sub.add_parser("ejecutar", help="ejecuta todos los cuadernos con papermill en build/")
    e.add_argument("--modo", choices=modos, default=None)
    e.add_argument("--todos", action="store_true", help="incluye ejercicios y soluciones")
    e.add_argument("--filtro", default="", help="solo cuadernos cuyo nombre contenga este texto")
    e.set_defaults(funcion=_ejecutar)

    i = sub.add_parser("inspeccionar", help="revisa una carpeta de imágenes (sale con 0 si es utilizable, 2 si no)")
    i.add_argument("ruta")
    i.add_argument("--tam-minimo", type=int, default=32)
    i.add_argument("--minimo", type=int, default=10, help="imágenes mínimas por clase")
    i.add_argument("--maximo", type=int, default=50, help="archivos listados como mucho por sección")
    i.set_defaults(funcion=_inspeccionar)

    d = sub.add_parser("descargar", help="descarga una vez datos y/o pesos para trabajar sin red")
    d.add_argument("--datos", action="store_true")
    d.add_argument("--pesos", action="store_true")
    d.add_argument("--destino", default=None, help="carpeta de destino (por defecto CURSO_DATOS_DIR/CURSO_PESOS_DIR)")
    d.add_argument("--arquitecturas", nargs="*", default=None)
    d.set_defaults(funcion=_descargar)

    x = sub.add_parser("experimentos", help="rejilla estrategias × redes y curva de datos, reanudable, con informe")
    x.add_argument("--modo", choices=modos, default=None)
    x.add_argument("--arquitecturas", nargs="*", default=None, help="redes (por defecto, las del modo)")
    x.add_argument("--estrategias", nargs="*", default=None, choices=("desde_cero", "extraccion", "fine_tuning"))
    x.add_argument(
        "--curva", action="store_true", help="añade la curva de datos (exactitud frente a imágenes por clase)"
    )
    x.add_argument("--carpeta", default=None, help="carpeta de imágenes propia en lugar de las flores")
    x.set_defaults(funcion=_experimentos)

    n = sub.add_parser("entrenar", help="entrena con tu carpeta de imágenes y exporta un .keras")
    n.add_argument("ruta", help="carpeta RUTA/<clase>/* o RUTA/train|validation/<clase>/*")
    n.add_argument("--arquitectura", default="mobilenet_v2", help="red base (se ignora con desde_cero)")
    n.add_argument("--estrategia", choices=("desde_cero", "extraccion", "fine_tuning"), default="fine_tuning")
    n.add_argument("--modo", choices=modos, default=None)
    n.add_argument("--salida", required=True, help="archivo MODELO.keras de salida")
    n.add_argument("--epocas", type=int, default=None, help="épocas por fase (por defecto, las del modo)")
    n.add_argument("--sobrescribir", action="store_true", help="permite reemplazar un MODELO.keras existente")
    n.set_defaults(funcion=_entrenar)

    r = sub.add_parser("predecir", help="predice una imagen o una carpeta con un .keras exportado")
    r.add_argument("modelo", help="archivo MODELO.keras exportado por el curso")
    r.add_argument("ruta", help="una imagen o una carpeta de imágenes")
    r.set_defaults(funcion=_predecir)

    return p


def main(argv=None) -> int:
    """Punto de entrada de `python -m course_utils`."""
    args = construir_parser().parse_args(argv)
    return args.funcion(args)


if __name__ == "__main__":
    sys.exit(main())
