"""La rejilla de `completo` en una GPU: MobileNetV2 y VGG16, las estrategias del curso, tamaño nativo.

Mide además, con unos pocos pasos fijos de ajuste fino por variante, el efecto de la precisión mixta
(`mixed_float16` frente a float32) y de XLA (`jit_compile`), con la memoria pico de la GPU de cada una.
Pensado para durar 8 minutos como mucho en una GPU grande (H200): `--limite-s` corta la rejilla a tiempo
y deja escrito lo terminado. Ver benchmarks/README.md («Rejilla completa en GPU»).

Uso:
    python benchmarks/gpu_completo.py [--salida benchmarks] [--limite-s 450] [--epocas N]
    python benchmarks/gpu_completo.py --prueba          # en la CPU, con datos diminutos: comprueba el script

Escribe en `--salida`: resultados_gpu_completo.json, resultados_gpu_completo.md y gpu_completo_registros.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
CARPETA = Path(__file__).resolve().parent
REDES = ("mobilenet_v2", "vgg16")
VARIANTES = [("float32", False), ("float32", True), ("mixed_float16", False), ("mixed_float16", True)]
NOMBRE = "resultados_gpu_completo"


class TiempoAgotado(Exception):
    """Se acabó `--limite-s`: lo terminado se escribe igual."""


@contextlib.contextmanager
def limite(segundos: float):
    """Lanza TiempoAgotado dentro del bloque cuando pasan `segundos` (reloj real, solo en el hilo principal)."""

    def alarma(*_):
        raise TiempoAgotado

    anterior = signal.signal(signal.SIGALRM, alarma)
    signal.setitimer(signal.ITIMER_REAL, max(segundos, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, anterior)


def memoria_gpu_mb(reiniciar: bool = False) -> float | None:
    """Pico de memoria de GPU:0 en MB desde el último reinicio (None sin GPU)."""
    import tensorflow as tf

    if not tf.config.list_logical_devices("GPU"):
        return None
    if reiniciar:
        tf.config.experimental.reset_memory_stats("GPU:0")
        return 0.0
    return round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, 1)


# --- 1. Precisión mixta y XLA: pasos fijos de ajuste fino ------------------------------------------


def medir_variante(red: str, precision: str, jit: bool, tam: int | None, lote: int, pasos: int, config) -> dict:
    """Imágenes por segundo de un paso de ajuste fino (base descongelada desde su punto por defecto)."""
    import keras
    import numpy as np

    from course_utils import arquitecturas, dispositivo, entrenamiento, estrategias

    keras.backend.clear_session()
    arq = arquitecturas.obtener(red)
    tam = tam or arq.tam_defecto
    entorno = {dispositivo.VARIABLE_PRECISION: precision, dispositivo.VARIABLE_XLA: "1" if jit else "0"}
    ejec = dispositivo.preparar(lote, entorno=entorno)
    memoria_gpu_mb(reiniciar=True)
    with ejec.ambito():
        try:
            base, pesos = arquitecturas.cargar_base(red, "imagenet", tam, config)
        except arquitecturas.PesosNoDisponibles:
            base, pesos = arquitecturas.cargar_base(red, "aleatorios", tam, config)  # la velocidad no depende de ellos
        modelo = estrategias.construir_extraccion(base, 5, tam)
        arquitecturas.descongelar_desde(base, arq.punto_descongelar)
        entrenamiento.compilar(modelo, estrategias.TASA_AJUSTE_FINO, ejec.jit)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (ejec.lote_global, tam, tam, 3)).astype("float32")
    y = rng.integers(0, 5, ejec.lote_global)
    inicio = time.perf_counter()
    modelo.train_on_batch(x, y)  # trazado y, con XLA, compilación
    primer_paso = time.perf_counter() - inicio
    modelo.train_on_batch(x, y)
    tiempos = []
    for _ in range(pasos):
        inicio = time.perf_counter()
        modelo.train_on_batch(x, y)  # devuelve la pérdida a NumPy: espera a la GPU
        tiempos.append(time.perf_counter() - inicio)
    return {
        "red": red,
        "precision": precision,
        "jit_compile": bool(modelo.jit_compile),
        "tam": tam,
        "lote": ejec.lote_global,
        "pasos": pasos,
        "pesos": pesos,
        "primer_paso_s": round(primer_paso, 2),
        "ms_por_paso": round(1000 * statistics.median(tiempos), 2),
        "img_s": round(ejec.lote_global / statistics.median(tiempos), 1),
        "memoria_gpu_pico_mb": memoria_gpu_mb(),
        "salida_float32": str(modelo.output.dtype) == "float32",
    }


def medir_variantes(redes, tam, lote, pasos, config, segundos) -> tuple[list[dict], bool]:
    filas, fin = [], time.perf_counter() + segundos
    for red in redes:
        for precision, jit in VARIANTES:
            if time.perf_counter() > fin:
                return filas, False
            print(f"  {red:<13} {precision:<14} XLA={'sí' if jit else 'no'} …", end="", flush=True)
            try:
                filas.append(medir_variante(red, precision, jit, tam, lote, pasos, config))
                f = filas[-1]
                print(f" {f['img_s']} img/s · primer paso {f['primer_paso_s']} s · GPU {f['memoria_gpu_pico_mb']} MB")
            except Exception as exc:  # noqa: BLE001 - una variante que falla se anota y se sigue
                filas.append({"red": red, "precision": precision, "jit_compile": jit, "error": str(exc)[:300]})
                print(f" ERROR: {str(exc).splitlines()[0][:200]}")
    return filas, True


def efectos(variantes: list[dict]) -> dict:
    """Aceleración de la precisión mixta y de XLA por red, a partir de las variantes medidas."""
    img = {(v["red"], v["precision"], v["jit_compile"]): v["img_s"] for v in variantes if "img_s" in v}
    salida = {}
    for red in sorted({v["red"] for v in variantes}):

        def razon(a, b, red=red):
            return round(img[(red, *b)] / img[(red, *a)], 2) if (red, *a) in img and (red, *b) in img else None

        salida[red] = {
            "mixta_sin_xla": razon(("float32", False), ("mixed_float16", False)),
            "mixta_con_xla": razon(("float32", True), ("mixed_float16", True)),
            "xla_en_float32": razon(("float32", False), ("float32", True)),
            "xla_en_mixta": razon(("mixed_float16", False), ("mixed_float16", True)),
        }
    return salida


# --- 2. La rejilla de completo --------------------------------------------------------------------


def ejecutar_rejilla(redes, epocas, tam, imagenes, carpeta, segundos) -> bool:
    """La rejilla de `completo` con `rejilla.ejecutar_rejilla`; False si se cortó por tiempo."""
    from course_utils import rejilla

    try:
        with limite(segundos):
            rejilla.ejecutar_rejilla(
                "completo", arquitecturas_elegidas=list(redes), curva=False, epocas=epocas, tam_imagen=tam,
                imagenes_por_clase=imagenes, carpeta=carpeta, escribir=False,
            )  # fmt: skip
        return True
    except TiempoAgotado:
        print(f"\nSe acabó el tiempo de la rejilla ({segundos:.0f} s): se escribe lo terminado.")
        return False


def filas_rejilla(resultados_dir: Path) -> list[dict]:
    from course_utils import registros

    campos = (
        "arquitectura", "estrategia", "pesos", "tam_imagen", "imagenes_entrenamiento", "imagenes_prueba", "epocas",
        "segundos_total", "segundos_por_epoca", "val_accuracy", "test_accuracy", "memoria_gpu_pico_mb",
        "memoria_pico_mb", "ms_por_imagen", "dispositivo",
    )  # fmt: skip
    return [{k: r.get(k) for k in campos} for r in registros.leer(resultados_dir, modo="completo")]


# --- Informe --------------------------------------------------------------------------------------


def _tabla(cabecera, filas) -> list[str]:
    return ["| " + " | ".join(cabecera) + " |", "|" + "---|" * len(cabecera)] + [
        "| " + " | ".join("—" if c is None else str(c) for c in f) + " |" for f in filas
    ]


def markdown(r: dict) -> str:
    m = r["maquina"]
    lineas = [
        "# Rejilla completa en GPU (`benchmarks/gpu_completo.py`)",
        "",
        f"{m.get('gpu') or 'sin GPU'} · {m['cpu']} ({m['nucleos']} núcleos) · TensorFlow {m['tensorflow']} · "
        f"Keras {m['keras']} · {r['fecha']} · {r['duracion_s']:.0f} s en total"
        + (" · **PRUEBA en CPU con datos diminutos: cifras sin valor**" if r["prueba"] else ""),
        "",
        f"Elección automática: {r['anuncio']}",
        "",
        "## Precisión mixta y XLA (pasos fijos de ajuste fino, imágenes aleatorias)",
        "",
    ]
    lineas += _tabla(
        ["red", "precisión", "XLA", "tam", "lote", "img/s", "ms/paso", "primer paso (s)", "GPU pico (MB)"],
        [
            [v["red"], v["precision"], "sí" if v["jit_compile"] else "no", v.get("tam"), v.get("lote"),
             v.get("img_s", "ERROR"), v.get("ms_por_paso"), v.get("primer_paso_s"), v.get("memoria_gpu_pico_mb")]
            for v in r["variantes"]
        ],
    )  # fmt: skip
    lineas += ["", "Aceleración (× imágenes por segundo):", ""]
    lineas += _tabla(
        ["red", "mixta sin XLA", "mixta con XLA", "XLA en float32", "XLA en mixta"],
        [
            [red, e["mixta_sin_xla"], e["mixta_con_xla"], e["xla_en_float32"], e["xla_en_mixta"]]
            for red, e in r["efectos"].items()
        ],
    )
    lineas += ["", "## La rejilla de `completo`", ""]
    if not r["rejilla_completa"]:
        lineas += ["**Incompleta**: se cortó al llegar a `--limite-s`; faltan las celdas que no aparecen.", ""]
    lineas += _tabla(
        ["red", "estrategia", "pesos", "tam", "img. entr.", "épocas", "s total", "s/época", "val", "prueba", "GPU pico (MB)"],
        [
            [f["arquitectura"], f["estrategia"], f["pesos"], f["tam_imagen"], f["imagenes_entrenamiento"], f["epocas"],
             f["segundos_total"], f["segundos_por_epoca"], _r3(f["val_accuracy"]), _r3(f["test_accuracy"]),
             f["memoria_gpu_pico_mb"]]
            for f in r["rejilla"]
        ],
    )  # fmt: skip
    return "\n".join(lineas) + "\n"


def _r3(x):
    return None if x is None else round(x, 3)


# --- Principal ------------------------------------------------------------------------------------


def leer_argumentos(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Rejilla de completo en GPU con precisión mixta y XLA medidos.")
    p.add_argument("--salida", type=Path, default=None, help="carpeta de resultados (por defecto benchmarks/)")
    p.add_argument("--limite-s", type=float, default=450, help="segundos en total como mucho (por defecto 450)")
    p.add_argument("--limite-variantes-s", type=float, default=150, help="segundos para las variantes (150)")
    p.add_argument("--epocas", type=int, default=None, help="épocas por fase (por defecto las de completo)")
    p.add_argument("--pasos", type=int, default=20, help="pasos medidos por variante (20)")
    p.add_argument("--prueba", action="store_true", help="en la CPU y con datos diminutos: solo comprueba el script")
    p.add_argument("--sin-gpu", action="store_true", help="seguir aunque no haya GPU (las cifras no valen)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = leer_argumentos(argv)
    inicio = time.perf_counter()
    temporal = Path(tempfile.mkdtemp(prefix="gpu_completo_"))
    salida = args.salida or (temporal / "salida" if args.prueba else CARPETA)
    os.environ["CURSO_RESULTADOS_DIR"] = str(temporal / "resultados")  # registros propios, sin mezclar

    from course_utils import config as cfg
    from course_utils import demo, dispositivo, medicion

    maquina = medicion.describir_maquina()
    anuncio = dispositivo.anuncio(dispositivo.preparar(cfg.MODOS["completo"].lote))
    print(anuncio)
    if maquina["dispositivo"] != "GPU" and not (args.prueba or args.sin_gpu):
        print("No hay GPU: este script mide la GPU. Usa --prueba para comprobarlo en la CPU.", file=sys.stderr)
        return 2
    if args.prueba:  # lo mismo, en pequeño: 32 px, una red, 10 imágenes generadas por clase, 1 época
        redes, tam, lote, pasos, epocas, imagenes = ("mobilenet_v2",), 32, 4, 2, 1, 5
        carpeta = demo.generar_demo(temporal / "demo", imagenes_por_clase=12, tam=40)
    else:
        redes, tam, lote, pasos, epocas, imagenes = (
            REDES,
            None,
            cfg.MODOS["completo"].lote,
            args.pasos,
            args.epocas,
            cfg.DEL_MODO,
        )
        carpeta = None
    config = cfg.obtener_config("completo")

    print(f"\n1. Precisión mixta y XLA ({pasos} pasos de ajuste fino por variante):")
    variantes, _ = medir_variantes(redes, tam, lote, pasos, config, args.limite_variantes_s)
    restante = args.limite_s - (time.perf_counter() - inicio)
    print(f"\n2. Rejilla de completo ({', '.join(redes)}; quedan {restante:.0f} s):")
    completa = ejecutar_rejilla(redes, epocas, tam, imagenes, carpeta, restante - 15)

    resultados = {
        "fecha": dt.datetime.now().isoformat(timespec="seconds"),
        "prueba": args.prueba,
        "maquina": maquina,
        "anuncio": anuncio,
        "variantes": variantes,
        "efectos": efectos(variantes),
        "rejilla_completa": completa,
        "rejilla": filas_rejilla(temporal / "resultados"),
        "limite_s": args.limite_s,
        "duracion_s": round(time.perf_counter() - inicio, 1),
    }
    salida.mkdir(parents=True, exist_ok=True)
    (salida / f"{NOMBRE}.json").write_text(
        json.dumps(resultados, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (salida / f"{NOMBRE}.md").write_text(markdown(resultados), encoding="utf-8")
    origen = temporal / "resultados" / "registros.jsonl"
    if origen.is_file():
        shutil.copy2(origen, salida / "gpu_completo_registros.jsonl")
    print(f"\nEscrito en {salida}: {NOMBRE}.json, {NOMBRE}.md · {resultados['duracion_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
