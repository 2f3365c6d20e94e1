"""Mide cuánto tarda el laboratorio de la cabeza (course_utils.laboratorio) en reentrenarla en ESTA máquina.

Uso:
    python benchmarks/laboratorio_cabeza.py [--n 2570] [--dimension 1280] [--clases 5] [--epocas 50]

Con características aleatorias del tamaño de la caché de tf_flowers con MobileNetV2 (2570 vectores de 1280 de
entrenamiento, 550 de validación, 5 clases; el tiempo no depende de los valores), mide con los dos motores el
primer entrenamiento (que prepara el modelo y su grafo) y la mediana de los siguientes, que es lo que tarda cada
cambio de un control. Solo escribe en la terminal.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from course_utils import formato, laboratorio, medicion  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="Tiempo de reentrenar la cabeza del laboratorio.")
    parser.add_argument("--n", type=int, default=2570, help="vectores de entrenamiento")
    parser.add_argument("--validacion", type=int, default=550, help="vectores de validación")
    parser.add_argument("--dimension", type=int, default=1280, help="tamaño de cada vector")
    parser.add_argument("--clases", type=int, default=5)
    parser.add_argument("--epocas", type=int, default=50)
    parser.add_argument("--repeticiones", type=int, default=5, help="reentrenamientos medidos tras el primero")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    y, y_val = np.arange(args.n) % args.clases, np.arange(args.validacion) % args.clases
    caches = laboratorio.preparar_caches(
        {
            "red": (
                (rng.normal(size=(args.n, args.dimension)), y),
                (rng.normal(size=(len(y_val), args.dimension)), y_val),
            )
        },
        args.clases,
    )
    print(
        f"{formato.entero(args.n)} × {args.dimension} de entrenamiento, {args.validacion} de validación, "
        f"{args.clases} clases, {args.epocas} épocas, lote {laboratorio.LOTE} · {medicion.dispositivo()} · "
        f"{os.cpu_count()} núcleos"
    )
    for motor in laboratorio.MOTORES:
        entrenador = laboratorio.Entrenador(caches, args.clases, motor=motor)
        tiempos = [
            entrenador.entrenar("red", laboratorio.TODAS, args.epocas, tasa, 0.2)["segundos"]
            for tasa in [1e-3] + [3e-3, 1e-3] * ((args.repeticiones + 1) // 2)
        ]
        siguientes = tiempos[1 : args.repeticiones + 1]
        print(
            f"motor {motor:<5}: primero {formato.decimal(tiempos[0], 2)} s; cada cambio, mediana "
            f"{formato.decimal(statistics.median(siguientes), 2)} s (de {formato.decimal(min(siguientes), 2)} a "
            f"{formato.decimal(max(siguientes), 2)} s en {len(siguientes)})"
        )


if __name__ == "__main__":
    main()
