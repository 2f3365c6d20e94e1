"""Línea de órdenes del curso: `python -m course_utils [--depurar] ORDEN ...`.

Los errores esperados (datos, pesos, modelos, modos, rutas que no se pueden escribir, red) salen como
un párrafo en español con el arreglo y el código 2, sin traza; `--depurar` muestra además la traza y
deja hablar a TensorFlow. Ctrl-C sale con 130.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
import traceback
import urllib.error
from pathlib import Path

from course_utils import config as cfg
from course_utils import formato, inspeccion, registros
from course_utils.terminal import ParserEspanol, importar_tensorflow_en_silencio

# Órdenes que cargan TensorFlow (a través de Keras); `inspeccionar` y `ejecutar` no lo necesitan aquí.
# Las de `estrategias.ESTRATEGIAS` (una prueba lo vigila): aquí sin importar Keras, para que la ayuda sea inmediata.
ESTRATEGIAS_CLI = ("desde_cero", "extraccion", "extraccion_continuada", "fine_tuning")
ORDENES_CON_TENSORFLOW = {"entrenar", "predecir", "experimentos", "descargar"}
ARREGLO_PESOS_SIN_RED = (
    "Sin red: copia los archivos .h5 de los pesos (con los nombres de Keras) desde una máquina que los tenga "
    "a una carpeta y define CURSO_PESOS_DIR=CARPETA."
)
CAUSAS_OSERROR = {
    errno.EACCES: "no tienes permiso",
    errno.EPERM: "operación no permitida",
    errno.ENOENT: "no existe",
    errno.ENOSPC: "no queda espacio en el disco",
    errno.EROFS: "el disco es de solo lectura",
    errno.ENOTDIR: "una parte de la ruta es un archivo, no una carpeta",
    errno.EISDIR: "es una carpeta, no un archivo",
    errno.EEXIST: "ya existe",
}


def _explicar_oserror(exc: OSError) -> str:
    if isinstance(exc, urllib.error.URLError):
        return (
            f"No hay conexión de red ({exc.reason}). Comprueba la conexión a internet o trabaja sin red con "
            "CURSO_DATOS_DIR y CURSO_PESOS_DIR apuntando a copias locales."
        )
    if exc.errno is None:  # los del curso (FileNotFoundError, FileExistsError…) ya traen su mensaje
        return str(exc)
    ruta = exc.filename if exc.filename is not None else "la ruta pedida"
    causa = CAUSAS_OSERROR.get(exc.errno, exc.strerror or str(exc))
    return (
        f"No se puede usar {inspeccion.mostrar(ruta)}: {causa}. Comprueba la ruta y sus permisos, o elige otra "
        "(--salida, --destino, CURSO_DATOS_DIR, CURSO_RESULTADOS_DIR)."
    )


def _tipos_del_curso() -> tuple[type, ...]:
    """Excepciones del curso con un mensaje en español; las de módulos con Keras, solo si ya se importaron."""
    tipos = [cfg.ModoDesconocido, inspeccion.DatosInvalidos, registros.CarpetaNoEscribible, ErrorDeDescarga]
    for modulo, nombre in (
        ("course_utils.datos", "DatosNoDisponibles"),
        ("course_utils.arquitecturas", "PesosNoDisponibles"),
        ("course_utils.exportacion", "ModeloNoValido"),
        ("course_utils.ejecucion", "CuadernoColgado"),
    ):
        tipo = getattr(sys.modules.get(modulo), nombre, None)
        if isinstance(tipo, type):
            tipos.append(tipo)
    return tuple(tipos)


def explicar_error(exc: BaseException) -> str | None:
    """El párrafo en español de un error esperado, o None si es un fallo del programa (se deja con su traza)."""
    if isinstance(exc, _tipos_del_curso()):
        return str(exc)
    if isinstance(exc, OSError):
        return _explicar_oserror(exc)
    if isinstance(exc, ValueError) and not isinstance(exc, UnicodeError):  # validación de ajustes del curso
        return str(exc)
    return None


def _al_interrumpir(orden: str) -> str:
    detalle = {
        "experimentos": ": la rejilla retoma las celdas que faltan (las terminadas ya están en registros.jsonl "
        "y no se repiten).",
        "entrenar": " (el entrenamiento vuelve a empezar; no se ha guardado ningún modelo a medias).",
        "descargar": " (los archivos ya descargados y verificados no se vuelven a bajar).",
        "ejecutar": " (los cuadernos se vuelven a ejecutar desde el principio).",
    }.get(orden, ".")
    return f"interrumpido; vuelve a lanzar la orden para reanudar{detalle}"


class ErrorDeDescarga(RuntimeError):
    """Una descarga falló (sin red o sin superar la comprobación de integridad); el mensaje da el arreglo."""


def _ejecutar(args) -> int:
    from course_utils import ejecucion

    return ejecucion.ejecutar_curso(
        args.modo, todos=args.todos, filtro=args.filtro, depurar=getattr(args, "depurar", False)
    )


def _inspeccionar(args) -> int:
    informe = inspeccion.inspeccionar(args.ruta, tam_minimo=args.tam_minimo, minimo_por_clase=args.minimo)
    print(informe.texto(max_por_seccion=args.maximo))
    return 0 if informe.utilizable else 2


def _descargar_pesos(carpeta: Path, nombres) -> None:
    from course_utils import arquitecturas

    for nombre in nombres:
        arq = arquitecturas.obtener(nombre)
        try:
            (ruta,) = arquitecturas.descargar_pesos(carpeta, [arq.nombre])
        except OSError:
            raise  # disco o permisos: lo explica main con la ruta
        except Exception as exc:  # noqa: BLE001 - keras.utils.get_file envuelve los fallos de red en Exception
            detalle = str(exc).splitlines()[0].split(" -- ")[-1][:160]
            if isinstance(exc, ValueError) and "hash" in str(exc):
                raise ErrorDeDescarga(
                    f"Los pesos de {arq.titulo} descargados desde {arq.url_pesos} no superan la comprobación de "
                    f"integridad (su huella no coincide con la publicada): el archivo llegó incompleto o alterado "
                    "y se ha descartado. Vuelve a lanzar la orden; si se repite, descárgalo en otra red. "
                    + ARREGLO_PESOS_SIN_RED
                ) from exc
            raise ErrorDeDescarga(
                f"No se pudieron descargar los pesos de {arq.titulo} ({arq.archivo_pesos}) desde {arq.url_pesos} "
                f"(detalle: {detalle}). ¿Hay conexión a internet? Los que ya estaban en {carpeta} se conservan. "
                + ARREGLO_PESOS_SIN_RED
            ) from exc
        print(f"  {ruta}")


def _descargar(args) -> int:
    from course_utils import arquitecturas, datos

    config = cfg.obtener_config()
    destino = Path(args.destino) if args.destino else None
    hacer_todo = not args.datos and not args.pesos
    if args.datos or hacer_todo:
        ruta = datos.descargar_flores(destino or config.datos_dir)
        print(f"Datos listos y verificados en {ruta}")
    if args.pesos or hacer_todo:
        carpeta = destino or config.pesos_dir or Path.home() / ".keras" / "models"
        _descargar_pesos(carpeta, args.arquitecturas or arquitecturas.NOMBRES)
        print(f"Pesos listos en {carpeta}. Para trabajar sin red: CURSO_PESOS_DIR={carpeta}")
    return 0


def _comprobar_resultados(config: cfg.Config) -> None:
    registros.comprobar_escribible(
        config.resultados_dir,
        "carpeta de resultados (CURSO_RESULTADOS_DIR), donde se anota registros.jsonl",
        "Define CURSO_RESULTADOS_DIR con una carpeta donde puedas escribir, por ejemplo "
        "`export CURSO_RESULTADOS_DIR=~/resultados_curso`. No se ha entrenado nada.",
    )


def _experimentos(args) -> int:
    import matplotlib

    from course_utils import rejilla, resultados

    matplotlib.use("Agg")
    _comprobar_resultados(cfg.obtener_config(args.modo))
    informe = rejilla.ejecutar_rejilla(
        args.modo,
        arquitecturas_elegidas=args.arquitecturas or None,
        estrategias=args.estrategias or None,
        curva=bool(args.curva),
        carpeta=args.carpeta,
    )
    print()
    print(resultados.tabla_pivote_markdown(informe.filas))
    return 0 if informe.registros else 1


def _entrenar(args) -> int:
    from course_utils import arquitecturas, datos, estrategias, exportacion

    desde_cero = args.estrategia == "desde_cero"
    nombre = estrategias.ARQ_DESDE_CERO if desde_cero else arquitecturas.obtener(args.arquitectura).nombre
    salida = Path(args.salida)
    if salida.suffix != ".keras" or (salida.exists() and not args.sobrescribir):
        motivo = "debe terminar en .keras" if salida.suffix != ".keras" else "ya existe (añade --sobrescribir)"
        print(f"ERROR: el archivo de salida {salida} {motivo}.", file=sys.stderr)
        return 2
    # Tus datos a pleno rendimiento: todas las imágenes de la carpeta y el tamaño nativo de la red, salvo que
    # se pida otra cosa (el tope por clase de los modos es para demostrar con las flores, no para tus datos).
    config = cfg.obtener_config_tus_datos(
        args.modo, epocas=args.epocas, imagenes_por_clase=args.imagenes_por_clase, tam_imagen=args.tam
    )
    # Antes de entrenar: que no se descubra al final, con el tiempo perdido y un registro sin modelo.
    registros.comprobar_escribible(
        salida.parent, f"carpeta del modelo de salida (--salida {salida})", "Elige con --salida otra ruta."
    )
    _comprobar_resultados(config)
    try:
        conjunto = datos.cargar_carpeta(args.ruta, config)
    except datos.DatosInvalidos as exc:
        if "\n" not in str(exc):
            raise
        print(exc, file=sys.stderr)  # el informe completo, con cada archivo y cada error
        raise datos.DatosInvalidos(
            f"la carpeta {inspeccion.mostrar(args.ruta)} no se puede usar para entrenar: corrige los ERRORES "
            f"del informe de arriba y compruébala con `python -m course_utils inspeccionar {args.ruta}`."
        ) from exc
    print(conjunto.resumen())
    if args.epocas is None and args.estrategia in estrategias.DESDE_CABEZA:  # hasta converger con tus datos
        config = estrategias.config_tus_datos(config, conjunto, args.estrategia)
        n = len(conjunto.particiones["entrenamiento"])
        print(f"Fase 2: hasta {config.epocas} épocas con parada temprana ({n} imágenes de entrenamiento).")
    print(f"Entrenando: {estrategias.titulo_red(nombre)} · {estrategias.NOMBRES_ESTRATEGIA[args.estrategia]} "
          f"· modo {config.modo}")  # fmt: skip
    nombre, tam, resultado = estrategias.entrenar_receta(
        nombre, args.estrategia, conjunto, config, etiqueta="entrenar_cli", elegir_tasa=True
    )
    registro = resultado.registro
    ruta = exportacion.exportar(
        resultado.modelo, salida, clases=conjunto.clases, arquitectura=nombre, tam=tam,
        estrategia=args.estrategia, registro=registro, sobrescribir=args.sobrescribir,
    )  # fmt: skip
    print(
        f"Exactitud en validación: {formato.decimal(registro['val_accuracy'], 3)} · en prueba: {formato.decimal(registro['test_accuracy'], 3)} "
        f"({registro['imagenes_prueba']} imágenes de prueba, evaluadas una sola vez) · {tam} px · "
        f"{registro['imagenes_entrenamiento']} imágenes de entrenamiento"
    )
    if "tasa_ajuste_fino" in registro:
        probadas = " · ".join(f"{t}: {formato.decimal(p, 3)}" for t, p in registro["val_loss_por_tasa"].items())
        print(f"Tasa de la fase 2 elegida en validación: {registro['tasa_ajuste_fino']:.0e} (val_loss {probadas})")
    if config.rapido:
        print("Modo rápido: la exactitud es solo orientativa.")
    if not desde_cero and registro["pesos"] == "aleatorios":
        print("AVISO: la base usó pesos ALEATORIOS: este modelo no aprovecha el aprendizaje por transferencia.")
    print(f"Modelo guardado en {ruta}")
    print(f"Para predecir: python -m course_utils predecir {ruta} CARPETA_O_IMAGEN")
    return 0


def _predecir(args) -> int:
    from course_utils import exportacion

    modelo, metadatos = exportacion.cargar_exportado(args.modelo)
    resultados = exportacion.predecir((modelo, metadatos), args.ruta)
    print(f"Modelo: {args.modelo} · red {metadatos['arquitectura']} · clases: {', '.join(metadatos['clases'])}")
    print(exportacion.tabla_predicciones(resultados, args.ruta))
    return 0 if any("error" not in r for r in resultados) else 2


def _modo(texto: str) -> str:
    """Tipo de `--modo`: acepta «rapido», «rápido», «clase» y «completo» (en mayúsculas también)."""
    if not texto.strip():
        raise argparse.ArgumentTypeError(f"está vacío; los modos válidos son: {', '.join(cfg.MODOS)}.")
    try:
        return cfg.resolver_modo(texto)
    except cfg.ModoDesconocido as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _imagenes(texto: str):
    """Tipo de `--imagenes-por-clase`: un entero, «todas» (None) o «modo» (el tope del modo)."""
    if texto.strip().lower() in ("todas", cfg.DEL_MODO):
        return None if texto.strip().lower() == "todas" else cfg.DEL_MODO
    return _entero(texto)


def _entero(texto: str) -> int:
    """Tipo de las opciones numéricas: un entero de 1 en adelante."""
    try:
        valor = int(texto)
    except ValueError:
        raise argparse.ArgumentTypeError(f"debe ser un número entero y llegó {texto!r}.") from None
    if valor < 1:
        raise argparse.ArgumentTypeError(f"debe ser 1 o más y llegó {valor}.")
    return valor


def construir_parser() -> argparse.ArgumentParser:
    """Define las órdenes y sus opciones."""
    p = ParserEspanol(prog="python -m course_utils", description="Herramientas del curso.")
    ayuda_depurar = "muestra la traza completa de los errores y los mensajes internos de TensorFlow"
    p.add_argument("--depurar", action="store_true", help=ayuda_depurar)
    sub = p.add_subparsers(dest="orden", required=True, title="órdenes", metavar="ORDEN")
    estrategias = ESTRATEGIAS_CLI
    modo = {"type": _modo, "default": None, "help": "rapido (o rápido), clase o completo; por defecto, CURSO_MODO"}

    def orden(nombre, ayuda, funcion):
        o = sub.add_parser(nombre, help=ayuda, description=ayuda)
        o.add_argument("--depurar", action="store_true", default=argparse.SUPPRESS, help=ayuda_depurar)
        o.set_defaults(funcion=funcion)
        return o

    e = orden("ejecutar", "ejecuta todos los cuadernos con papermill en build/", _ejecutar)
    e.add_argument("--modo", **modo)
    e.add_argument("--todos", action="store_true", help="incluye ejercicios y soluciones")
    e.add_argument("--filtro", default="", help="solo cuadernos cuyo nombre contenga este texto")

    i = orden("inspeccionar", "revisa una carpeta de imágenes (sale con 0 si es utilizable, 2 si no)", _inspeccionar)
    i.add_argument("ruta", help="carpeta RUTA/<clase>/* o RUTA/train|validation|test/<clase>/*")
    i.add_argument("--tam-minimo", type=_entero, default=32, help="lado mínimo en píxeles")
    i.add_argument("--minimo", type=_entero, default=10, help="imágenes mínimas por clase")
    i.add_argument("--maximo", type=_entero, default=50, help="archivos listados como mucho por sección")

    d = orden("descargar", "descarga una vez datos y/o pesos para trabajar sin red", _descargar)
    d.add_argument("--datos", action="store_true", help="solo las fotos de flores")
    d.add_argument("--pesos", action="store_true", help="solo los pesos preentrenados")
    d.add_argument("--destino", default=None, help="carpeta de destino (por defecto CURSO_DATOS_DIR/CURSO_PESOS_DIR)")
    d.add_argument("--arquitecturas", nargs="*", default=None, help="redes cuyos pesos bajar (por defecto, todas)")

    x = orden("experimentos", "rejilla estrategias × redes y curva de datos, reanudable, con informe", _experimentos)
    x.add_argument("--modo", **modo)
    x.add_argument("--arquitecturas", nargs="*", default=None, help="redes (por defecto, las del modo)")
    x.add_argument("--estrategias", nargs="*", default=None, choices=estrategias, help="por defecto, todas")
    x.add_argument(
        "--curva", action="store_true", help="añade la curva de datos (exactitud frente a imágenes por clase)"
    )
    x.add_argument("--carpeta", default=None, help="carpeta de imágenes propia en lugar de las flores")

    n = orden("entrenar", "entrena con tu carpeta de imágenes y exporta un .keras", _entrenar)
    n.add_argument("ruta", help="carpeta RUTA/<clase>/* o RUTA/train|validation|test/<clase>/*")
    n.add_argument("--arquitectura", default="mobilenet_v2", help="red base (se ignora con desde_cero)")
    n.add_argument("--estrategia", choices=estrategias, default="fine_tuning", help="por defecto, fine_tuning")
    n.add_argument("--modo", **modo)
    n.add_argument("--salida", required=True, help="archivo MODELO.keras de salida")
    n.add_argument("--epocas", type=_entero, default=None, help="épocas por fase (por defecto, las del modo)")
    n.add_argument("--tam", type=_entero, default=None, help="lado de la imagen en píxeles (por defecto, el nativo)")
    n.add_argument(
        "--imagenes-por-clase", type=_imagenes, default=None, help="tope de imágenes de entrenamiento por clase "
        "(por defecto, todas; «modo» = el tope del modo)",
    )  # fmt: skip
    n.add_argument("--sobrescribir", action="store_true", help="permite reemplazar un MODELO.keras existente")

    r = orden("predecir", "predice una imagen o una carpeta con un .keras exportado", _predecir)
    r.add_argument("modelo", help="archivo MODELO.keras exportado por el curso")
    r.add_argument("ruta", help="una imagen o una carpeta de imágenes")
    return p


def _salida_sin_errores_de_codificacion() -> None:
    """Un nombre de archivo con bytes raros no debe tumbar un `print` (se muestra como `\\xNN`)."""
    for flujo in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            flujo.reconfigure(errors="backslashreplace")


def main(argv=None) -> int:
    """Punto de entrada de `python -m course_utils`: errores esperados en español (código 2), Ctrl-C 130."""
    args = construir_parser().parse_args(argv)
    depurar = getattr(args, "depurar", False)
    _salida_sin_errores_de_codificacion()
    try:
        if args.orden in ORDENES_CON_TENSORFLOW:
            importar_tensorflow_en_silencio(depurar)
        return args.funcion(args)
    except KeyboardInterrupt:
        print(f"\n{_al_interrumpir(args.orden)}", file=sys.stderr)
        return 130
    except Exception as exc:
        mensaje = explicar_error(exc)
        if mensaje is None:
            raise  # un fallo del programa, no de la entrada: con su traza, para poder arreglarlo
        if depurar:
            traceback.print_exception(exc)
        print(f"ERROR: {mensaje}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
