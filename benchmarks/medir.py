"""Mide en ESTA máquina la velocidad y la memoria de las siete redes del curso (ver benchmarks/README.md).

Uso:
    python benchmarks/medir.py --modo clase [--arquitecturas vgg16 xception] [--repeticiones 2]

Escribe `benchmarks/resultados_<modo>.json` y un resumen en Markdown `benchmarks/resultados_<modo>.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from course_utils.terminal import importar_tensorflow_en_silencio

importar_tensorflow_en_silencio()  # sin las líneas en inglés de TensorFlow al importarlo
CARPETA = Path(__file__).resolve().parent

import keras  # noqa: E402
import numpy as np  # noqa: E402

from course_utils import arquitecturas, caracteristicas, datos, entrenamiento, estrategias, formato, medicion  # noqa: E402
from course_utils import config as cfg  # noqa: E402

REDES_MEMORIA = ("mobilenet_v2", "vgg16")
MARCA_HIJO = "RESULTADO_MEMORIA "
MINIMO_S = 0.5  # una tanda de pasos más corta que esto es casi todo ruido


# --- Preparación ----------------------------------------------------------------------------------


def cargar_base(nombre: str, tam: int, config: cfg.Config) -> tuple[keras.Model, str]:
    """Base con pesos preentrenados si los hay; si no, aleatorios: la velocidad no depende de los pesos."""
    try:
        return arquitecturas.cargar_base(nombre, "imagenet", tam, config)
    except arquitecturas.PesosNoDisponibles:
        print(f"  {nombre}: no hay pesos preentrenados; se mide con pesos aleatorios (la velocidad es la misma).")
        return arquitecturas.cargar_base(nombre, "aleatorios", tam, config)


def cabeza_sobre_cache(dimension: int, n_clases: int) -> keras.Model:
    """La misma cabeza que el modelo de extremo a extremo (Dropout + Dense), sobre vectores en caché."""
    entrada = keras.Input((dimension,))
    x = keras.layers.Dropout(0.2)(entrada)
    salida = keras.layers.Dense(n_clases, activation="softmax")(x)
    return entrenamiento.compilar(keras.Model(entrada, salida, name="cabeza_cache"), estrategias.TASA_CABEZA)


def modelo_extraccion(base, n_clases: int, tam: int) -> keras.Model:
    """Entrada → base(training=False) congelada → GAP → Dropout → Dense, compilado como en el cuaderno 04."""
    modelo = estrategias.construir_extraccion(base, n_clases, tam)
    return entrenamiento.compilar(modelo, estrategias.TASA_CABEZA)


def mediana_tras_calentar(tiempos: list[float]) -> float:
    """Mediana de las épocas medidas, descartando la primera (calentamiento: trazado y caché de imágenes)."""
    return float(np.median(tiempos[1:] or tiempos))


# --- 1. Caché de características frente a extremo a extremo -------------------------------------


def medir_extraccion(base, ds_sin_aumento, repeticiones: int) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Medianas de los segundos de `caracteristicas.extraer` y de `base.predict`, y las (X, y) extraídas.

    Las dos se miden alternadas (extraer, predict, extraer, predict…) tras una pasada de calentamiento de cada
    una, para que un pico de carga de la máquina no caiga solo sobre una de ellas.
    """
    # Llena la caché de imágenes decodificadas (la lectura se paga igual en ambos casos).
    for _ in ds_sin_aumento:
        pass
    solo_imagenes = ds_sin_aumento.map(lambda x, _: x)
    extraidas = [caracteristicas.extraer(base, ds_sin_aumento)]
    base.predict(solo_imagenes, verbose=0)
    t_extraer, t_predict = [], []
    for _ in range(repeticiones):
        t_extraer.append(
            medicion.mediana_segundos(lambda: extraidas.append(caracteristicas.extraer(base, ds_sin_aumento)), 1, 0)
        )
        t_predict.append(medicion.mediana_segundos(lambda: base.predict(solo_imagenes, verbose=0), 1, 0))
    return (float(np.median(t_extraer)), float(np.median(t_predict)), *extraidas[-1])


def medir_cache(base, modelo, arq, conjunto, config, tam: int, repeticiones: int) -> dict:
    """Extracción única, época de la cabeza en caché y época de extremo a extremo (base congelada)."""
    ds_sin_aumento = conjunto.datasets(tam, config.lote, preprocesado=arq.preprocesado)[0]
    # La referencia: la inferencia compilada de Keras (`predict`) sobre las mismas imágenes ya decodificadas.
    extraccion, inferencia, xs, ys = medir_extraccion(base, ds_sin_aumento, repeticiones)
    cabeza = cabeza_sobre_cache(xs.shape[1], len(conjunto.clases))
    t_cabeza = mediana_tras_calentar(medicion.segundos_por_epoca(cabeza, xs, ys, 1 + repeticiones, config.lote))
    aumento = datos.bloque_aumento(semilla=config.semilla)
    ds_aumento = conjunto.datasets(tam, config.lote, arq.preprocesado, aumento, config.semilla)[0]
    t_e2e = mediana_tras_calentar(medicion.segundos_por_epoca(modelo, ds_aumento, epocas=1 + repeticiones))
    t_e2e, t_cabeza = round(t_e2e, 4), round(t_cabeza, 4)
    return {
        "extremo_a_extremo_s_epoca": t_e2e,
        "cabeza_cache_s_epoca": t_cabeza,
        "extraccion_unica_s": round(extraccion, 4),
        "aceleracion": round(t_e2e / t_cabeza, 1),
        "extraccion_img_s": round(len(ys) / extraccion, 1),
        "predict_img_s": round(len(ys) / inferencia, 1),
        "eficiencia_extraccion": round(inferencia / extraccion, 3),
    }


# --- 2. Rendimiento: imágenes por segundo ---------------------------------------------------------


def imagenes_por_segundo(paso, lote: int, repeticiones: int) -> float:
    """Mediana de `repeticiones` tandas de pasos, cada tanda de al menos MINIMO_S segundos (tras calentar)."""
    paso()  # calentamiento: trazado de la función
    pasos = max(1, math.ceil(MINIMO_S / medicion.mediana_segundos(paso, 1, calentamiento=0)))
    segundos = medicion.mediana_segundos(lambda: [paso() for _ in range(pasos)], repeticiones, calentamiento=0)
    return round(lote * pasos / segundos, 1)


def medir_rendimiento(base, modelo, arq, config, tam: int, repeticiones: int) -> dict:
    """Imágenes por segundo en inferencia y en un paso de ajuste fino (desde el punto por defecto)."""
    rng = np.random.default_rng(config.semilla)
    x = np.asarray(arq.preprocesado(rng.uniform(0, 255, (config.lote, tam, tam, 3)).astype("float32")))
    y = rng.integers(0, modelo.output_shape[-1], config.lote)
    inferencia = imagenes_por_segundo(lambda: modelo.predict_on_batch(x), config.lote, repeticiones)
    capas = arquitecturas.descongelar_desde(base, arq.punto_descongelar)  # BatchNorm sigue congelada
    entrenamiento.compilar(modelo, estrategias.TASA_AJUSTE_FINO)  # recompilar tras cambiar `trainable`
    paso = imagenes_por_segundo(lambda: modelo.train_on_batch(x, y), config.lote, repeticiones)
    return {
        "inferencia_img_s": inferencia,
        "entrenamiento_img_s": paso,
        "lote": config.lote,
        "tam": tam,
        "descongelado_desde": arq.punto_descongelar,
        "capas_con_pesos_entrenables": capas,
    }


def medir_red(nombre: str, conjunto, config, repeticiones: int) -> tuple[dict, dict]:
    """Carga una red una sola vez y mide la caché y el rendimiento; devuelve ambas entradas."""
    arq = arquitecturas.obtener(nombre)
    tam = config.tam_para(arq.tam_defecto)
    keras.backend.clear_session()
    cfg.fijar_semillas(config.semilla)
    base, pesos = cargar_base(nombre, tam, config)
    modelo = modelo_extraccion(base, len(conjunto.clases), tam)
    cache = medir_cache(base, modelo, arq, conjunto, config, tam, repeticiones)
    rendimiento = medir_rendimiento(base, modelo, arq, config, tam, repeticiones)
    return {**cache, "pesos": pesos}, {**rendimiento, "pesos": pesos}


# --- 3. Memoria pico por estrategia, cada una en un proceso nuevo ----------------------------------


def trabajo_memoria(estrategia: str, red: str, conjunto, config) -> tuple[str, Callable]:
    """Prepara (fuera de la medida) una época de la estrategia y devuelve (pesos, función que la entrena)."""
    if estrategia == "desde_cero":
        tam = config.tam_imagen or estrategias.TAM_DESDE_CERO
        modelo = estrategias.construir_desde_cero(len(conjunto.clases), tam)
        entrenamiento.compilar(modelo, estrategias.TASA_CABEZA)
        ds = conjunto.datasets(tam, config.lote, estrategias.escalar, datos.bloque_aumento(semilla=0))[0]
        return "aleatorios", lambda: modelo.fit(ds, epochs=1, verbose=0)
    arq = arquitecturas.obtener(red)
    tam = config.tam_para(arq.tam_defecto)
    base, pesos = cargar_base(red, tam, config)
    if estrategia == "extraccion_rapida":
        ds = conjunto.datasets(tam, config.lote, arq.preprocesado)[0]
        return pesos, lambda: _cabeza_en_cache(base, ds, len(conjunto.clases), config.lote)
    modelo = modelo_extraccion(base, len(conjunto.clases), tam)
    if estrategia == "fine_tuning":
        arquitecturas.descongelar_desde(base, arq.punto_descongelar)
        entrenamiento.compilar(modelo, estrategias.TASA_AJUSTE_FINO)
    ds = conjunto.datasets(tam, config.lote, arq.preprocesado, datos.bloque_aumento(semilla=0))[0]
    return pesos, lambda: modelo.fit(ds, epochs=1, verbose=0)


def _cabeza_en_cache(base, ds, n_clases: int, lote: int) -> None:
    xs, ys = caracteristicas.extraer(base, ds)
    cabeza_sobre_cache(xs.shape[1], n_clases).fit(xs, ys, batch_size=lote, epochs=1, verbose=0)


def hijo_memoria(estrategia: str, red: str, modo: str) -> dict:
    """Se ejecuta en el proceso hijo: mide la memoria residente antes y el pico durante una época."""
    config = cfg.obtener_config(modo)
    cfg.fijar_semillas(config.semilla)
    conjunto = datos.cargar_datos(config)
    pesos, entrenar_una_epoca = trabajo_memoria(estrategia, red, conjunto, config)
    antes = medicion.memoria_actual_mb()
    with medicion.MedidorMemoria() as memoria:
        entrenar_una_epoca()
    return {
        "antes_mb": antes and round(antes, 1),
        "pico_mb": round(memoria.ram_mb, 1),
        "pico_solo_del_bloque": memoria.reiniciado,
        "gpu_pico_mb": memoria.gpu_mb and round(memoria.gpu_mb, 1),
        "pesos": pesos,
    }


def medir_memoria_en_hijo(estrategia: str, red: str, modo: str) -> dict:
    """Lanza `medir.py --hijo-memoria` en un proceso nuevo (el pico de memoria es por proceso)."""
    orden = [sys.executable, str(Path(__file__).resolve()), "--modo", modo, "--hijo-memoria", estrategia, red]
    proceso = subprocess.run(orden, capture_output=True, text=True)
    for linea in proceso.stdout.splitlines():
        if linea.startswith(MARCA_HIJO):
            return json.loads(linea[len(MARCA_HIJO) :])
    error = (proceso.stderr or proceso.stdout).strip().splitlines()[-1:] or ["sin salida"]
    return {"error": f"el proceso hijo terminó con código {proceso.returncode}: {error[0][:200]}"}


def medir_memoria(redes: list[str], modo: str) -> dict:
    """Memoria pico de las cuatro estrategias (desde cero una vez; las demás por red), en MB."""
    resultado = {estrategias.ARQ_DESDE_CERO: {"desde_cero": medir_memoria_en_hijo("desde_cero", "-", modo)}}
    variantes = ("extraccion", "extraccion_rapida", "fine_tuning")
    for red in redes:
        resultado[red] = {e: medir_memoria_en_hijo(e, red, modo) for e in variantes}
    for red, por_estrategia in resultado.items():
        for estrategia, medida in por_estrategia.items():
            texto = f"{medida['pico_mb']:.0f} MB" if "pico_mb" in medida else medida["error"]
            print(f"  {red:<15} {estrategia:<18} {texto}")
    return resultado


# --- 4. Contexto, escritura y resumen --------------------------------------------------------------


def contexto(config, conjunto, repeticiones: int) -> dict:
    """Máquina, versiones, fecha, modo, tamaño de imagen e imágenes usadas."""
    return {
        **medicion.describir_maquina(),
        "fecha": dt.datetime.now().isoformat(timespec="seconds"),
        "modo": config.modo,
        "tam_imagen": config.tam_imagen or "el nativo de cada red",
        "lote": config.lote,
        "datos": conjunto.origen,
        "imagenes_entrenamiento": len(conjunto.particiones["entrenamiento"]),
        "repeticiones": repeticiones,
        "carga_media_inicio": _carga_media(),
    }


def _carga_media() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _celda(valor, decimales: int = 2, como=formato.decimal) -> str:
    """Un número a la española («6,68», «34», «95 %») o «—» si no se midió."""
    return "—" if valor is None else como(valor, decimales) if isinstance(valor, (int, float)) else str(valor)


def _tabla(cabecera: list[str], filas: list[list[str]]) -> list[str]:
    numerica = [all(f[i][:1] in "0123456789×—" for f in filas) for i in range(len(cabecera))]
    alineacion = ["---:" if n else "---" for n in numerica]
    return ["| " + " | ".join(f) + " |" for f in (cabecera, alineacion, *filas)]


def tabla_cache(cache: dict) -> list[str]:
    """Tabla Markdown de la caché de características."""
    cabecera = ["red", "pesos", "extracción única (s)", "cabeza en caché (s/época)", "extremo a extremo (s/época)"]
    cabecera += ["aceleración", "extracción (img/s)", "`predict` (img/s)", "extracción / `predict`"]
    filas = [
        [red, m["pesos"], _celda(m["extraccion_unica_s"]), _celda(m["cabeza_cache_s_epoca"], 3),
         _celda(m["extremo_a_extremo_s_epoca"]), "×" + _celda(m["aceleracion"], 0),
         _celda(m.get("extraccion_img_s"), 0), _celda(m.get("predict_img_s"), 0),
         _celda(m.get("eficiencia_extraccion"), 0, formato.porcentaje)]
        for red, m in cache.items()
    ]  # fmt: skip
    return _tabla(cabecera, filas)


def tabla_rendimiento(rendimiento: dict) -> list[str]:
    """Tabla Markdown de imágenes por segundo."""
    cabecera = ["red", "pesos", "tamaño", "lote", "inferencia (img/s)", "ajuste fino (img/s)", "descongelado desde"]
    filas = [
        [red, m["pesos"], str(m["tam"]), str(m["lote"]), _celda(m["inferencia_img_s"], 1),
         _celda(m["entrenamiento_img_s"], 1), f"`{m['descongelado_desde']}`"]
        for red, m in rendimiento.items()
    ]  # fmt: skip
    return _tabla(cabecera, filas)


def tabla_memoria(memoria: dict) -> list[str]:
    """Tabla Markdown de la memoria pico por estrategia."""
    cabecera = ["red", "estrategia", "RAM antes (MB)", "RAM pico (MB)", "GPU pico (MB)", "pesos"]
    filas = []
    for red, por_estrategia in memoria.items():
        for estrategia, m in por_estrategia.items():
            if "error" in m:
                filas.append([red, estrategia, "—", "—", "—", f"error: {m['error']}"])
            else:
                filas.append([red, estrategia, _celda(m["antes_mb"], 0), _celda(m["pico_mb"], 0),
                              _celda(m["gpu_pico_mb"], 0), m["pesos"]])  # fmt: skip
    return _tabla(cabecera, filas)


def resumen_markdown(resultados: dict) -> str:
    """Resumen en español de un archivo de resultados, con el contexto de la máquina."""
    m = resultados["maquina"]
    lineas = [
        f"# Mediciones de rendimiento · modo `{m['modo']}`",
        "",
        f"Medido el {m['fecha']} en {m['cpu']} ({m['nucleos']} núcleos, {m['dispositivo']}"
        f"{', ' + m['gpu'] if m['gpu'] else ''}), TensorFlow {m['tensorflow']}, Keras {m['keras']}, "
        f"Python {m['python']}. Tamaño de imagen: {m['tam_imagen']} px; lote {m['lote']}; "
        f"{m['imagenes_entrenamiento']} imágenes de entrenamiento ({m['datos']}); mediana de "
        f"{m['repeticiones']} repeticiones. Carga media del sistema: {_celda(m['carga_media_inicio'])} al empezar y "
        f"{_celda(m['carga_media_fin'])} al terminar; duración total {formato.decimal(m['duracion_s'], 0)} s.",
        "",
        "Son medidas de ESTA máquina: en otra cambian, y con otros procesos en marcha tienen ruido.",
    ]
    if m["modo"] == "rapido":
        lineas.append("En modo rápido (pocas imágenes pequeñas) las cifras son solo orientativas.")
    secciones = [
        ("Caché de características frente a base congelada de extremo a extremo", tabla_cache, "cache"),
        ("Imágenes por segundo", tabla_rendimiento, "rendimiento"),
        ("Memoria pico por estrategia (una época, cada medida en un proceso nuevo)", tabla_memoria, "memoria"),
    ]
    for titulo, hacer_tabla, clave in secciones:
        if resultados.get(clave):
            lineas += ["", f"## {titulo}", "", *hacer_tabla(resultados[clave])]
    return "\n".join(lineas) + "\n"


def escribir(resultados: dict, carpeta: Path = CARPETA) -> tuple[Path, Path]:
    """Guarda `resultados_<modo>.json` y `resultados_<modo>.md`."""
    modo = resultados["maquina"]["modo"]
    ruta_json, ruta_md = carpeta / f"resultados_{modo}.json", carpeta / f"resultados_{modo}.md"
    ruta_json.write_text(json.dumps(resultados, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    ruta_md.write_text(resumen_markdown(resultados), encoding="utf-8")
    return ruta_json, ruta_md


# --- Programa -------------------------------------------------------------------------------------


def leer_argumentos(argv=None) -> argparse.Namespace:
    """Opciones de la línea de órdenes."""
    p = argparse.ArgumentParser(description="Mide velocidad y memoria de las redes del curso en esta máquina.")
    p.add_argument("--modo", default=None, help="rapido, clase o completo (por defecto, CURSO_MODO o clase)")
    p.add_argument("--arquitecturas", nargs="+", default=list(arquitecturas.NOMBRES), help="redes a medir")
    p.add_argument("--repeticiones", type=int, default=2, help="épocas o pasadas medidas tras calentar")
    p.add_argument(
        "--redes-memoria", nargs="*", default=list(REDES_MEMORIA), help="redes para la memoria (vacío: no medirla)"
    )
    p.add_argument("--hijo-memoria", nargs=2, metavar=("ESTRATEGIA", "RED"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeticiones < 1:
        p.error("--repeticiones debe ser al menos 1.")
    try:
        args.arquitecturas = [arquitecturas.obtener(n).nombre for n in args.arquitecturas]
        args.redes_memoria = [arquitecturas.obtener(n).nombre for n in args.redes_memoria]
    except ValueError as exc:
        p.error(str(exc))
    return args


def main(argv=None) -> int:
    """Mide todo, imprime el progreso y escribe los resultados."""
    args = leer_argumentos(argv)
    if args.hijo_memoria:
        print(MARCA_HIJO + json.dumps(hijo_memoria(*args.hijo_memoria, cfg.resolver_modo(args.modo))))
        return 0
    inicio = time.perf_counter()
    config = cfg.obtener_config(args.modo)
    try:
        conjunto = datos.cargar_datos(config)
    except (datos.DatosNoDisponibles, datos.DatosInvalidos) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    resultados = {"maquina": contexto(config, conjunto, args.repeticiones), "cache": {}, "rendimiento": {}}
    print(f"Modo {config.modo}: {resultados['maquina']['imagenes_entrenamiento']} imágenes de entrenamiento.")
    for nombre in args.arquitecturas:
        t0 = time.perf_counter()
        resultados["cache"][nombre], resultados["rendimiento"][nombre] = medir_red(
            nombre, conjunto, config, args.repeticiones
        )
        c, r = resultados["cache"][nombre], resultados["rendimiento"][nombre]
        print(
            f"  {nombre:<13} caché ×{_celda(c['aceleracion'], 0)} · extracción/`predict` "
            f"{_celda(c.get('eficiencia_extraccion'), 0, formato.porcentaje)} · inferencia {_celda(r['inferencia_img_s'], 1)} "
            f"img/s · ajuste fino {_celda(r['entrenamiento_img_s'], 1)} img/s · pesos {c['pesos']} · "
            f"{_celda(time.perf_counter() - t0, 0)} s"
        )
    if args.redes_memoria:
        print("Memoria pico (un proceso nuevo por medida):")
        resultados["memoria"] = medir_memoria(args.redes_memoria, config.modo)
    resultados["maquina"]["carga_media_fin"] = _carga_media()
    resultados["maquina"]["duracion_s"] = round(time.perf_counter() - inicio, 1)
    ruta_json, ruta_md = escribir(resultados)
    print(f"Escrito {ruta_json} y {ruta_md.name} en {resultados['maquina']['duracion_s']:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
