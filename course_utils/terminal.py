"""La terminal del curso: `argparse` en español y TensorFlow sin su ruido de arranque en inglés.

Lo usa la línea de órdenes (`python -m course_utils`); `importar_tensorflow_en_silencio` sirve también
a quien quiera importar TensorFlow sin esas líneas (p. ej. un script o un cuaderno).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import sys
import tempfile

# Lo que TensorFlow escribe al importarse (y cuInit en una máquina sin GPU), en inglés y sin utilidad para
# quien usa el curso. Solo se quitan estas líneas; cualquier otra que escriba al importarse se muestra.
RUIDO_TENSORFLOW = re.compile(
    "|".join(
        (
            r"All log messages before absl::InitializeLog\(\) is called",
            r"oneDNN custom operations are on",
            r"cudart_stub\.cc.*Could not find cuda drivers",
            r"failed call to cuInit",
            r"cpu_feature_guard\.cc",
            r"^To enable the following instructions: .*rebuild TensorFlow",
            r"Unable to register cu(DNN|FFT|BLAS) factory",
            r"computation_placer\.cc.*already registered",
            r"TF-TRT Warning: Could not find TensorRT",
        )
    )
)


def callar_avisos_de_tensorflow() -> None:
    """Oculta los avisos de Python de TensorFlow (p. ej. «retracing» al crear muchos modelos pequeños).

    Los errores se siguen viendo. No importa TensorFlow: basta con el registrador «tensorflow» de `logging`.
    """
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def importar_tensorflow_en_silencio(depurar: bool = False) -> None:
    """Importa Keras y TensorFlow sin las ~6 líneas en inglés que TensorFlow escribe en la terminal.

    Esas líneas las escribe el código C++ antes de leer TF_CPP_MIN_LOG_LEVEL, así que la variable sola
    no basta: durante la importación el descriptor 2 (stderr) va a un archivo temporal y después se
    vuelve a escribir todo lo que no sea ruido conocido (`RUIDO_TENSORFLOW`). TF_CPP_MIN_LOG_LEVEL=3
    calla además el aviso de cuInit en las máquinas sin GPU. oneDNN se deja activado (quitarlo cambia la
    velocidad y los números). Con `depurar`, TensorFlow habla como siempre.
    """
    if depurar or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with stderr_sin_ruido():
        import keras  # noqa: F401 - importa TensorFlow


@contextlib.contextmanager
def stderr_sin_ruido():
    """Calla el ruido de TensorFlow en stderr, también el de los procesos hijos (el kernel de un cuaderno).

    Mientras dura, el descriptor 2 va a un archivo temporal; al salir se escribe todo lo que no sea ruido
    conocido (`RUIDO_TENSORFLOW`). Lo de dentro aparece al final, no en el momento: úsalo solo alrededor de
    lo que hace ruido.
    """
    try:
        sys.stderr.flush()
        copia = os.dup(2)
    except (AttributeError, OSError, ValueError):  # sin stderr ni descriptor 2 (p. ej. pythonw): nada que callar
        copia = None
    if copia is None:
        yield
        return
    with tempfile.TemporaryFile() as temporal:
        os.dup2(temporal.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(copia, 2)
            os.close(copia)
            temporal.seek(0)
            for linea in io.TextIOWrapper(temporal, encoding="utf-8", errors="replace"):
                if linea.strip() and not RUIDO_TENSORFLOW.search(linea):
                    print(linea.rstrip("\n"), file=sys.stderr)


TRADUCCIONES_ARGPARSE = {
    "usage: ": "uso: ",
    "positional arguments": "argumentos",
    "options": "opciones",
    "show this help message and exit": "muestra esta ayuda y sale",
    "the following arguments are required: %s": "argumento obligatorio: %s",
    "unrecognized arguments: %s": "argumentos no reconocidos: %s",
    "argument %(argument_name)s: %(message)s": "argumento %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "opción no válida: %(value)r (elige entre %(choices)s)",
    "invalid %(type)s value: %(value)r": "valor no válido: %(value)r",
    "expected one argument": "falta su valor",
    "expected at most one argument": "admite como mucho un valor",
    "expected at least one argument": "necesita al menos un valor",
    "ambiguous option: %(option)s could match %(matches)s": "opción ambigua: %(option)s puede ser %(matches)s",
    "not allowed with argument %s": "no se puede usar junto con %s",
    "ignored explicit argument %r": "sobra el valor %r",
    "one of the arguments %s is required": "hace falta uno de estos argumentos: %s",
    "unexpected option string: %s": "opción inesperada: %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "orden desconocida %(parser_name)r (válidas: %(choices)s)",
    "can't open '%(filename)s': %(error)s": "no se puede abrir '%(filename)s': %(error)s",
}


@contextlib.contextmanager
def _argparse_en_espanol():
    """Traduce los textos de argparse solo mientras los usa la línea de órdenes del curso."""
    original, original_n = argparse._, argparse.ngettext

    def plural(singular, plural, n):
        return "necesita %s valores" if singular == "expected %s argument" else original_n(singular, plural, n)

    argparse._ = lambda texto: TRADUCCIONES_ARGPARSE.get(texto, texto)
    argparse.ngettext = plural
    try:
        yield
    finally:
        argparse._, argparse.ngettext = original, original_n


class ParserEspanol(argparse.ArgumentParser):
    """`ArgumentParser` con la ayuda, el uso y los errores en español."""

    def __init__(self, *args, **kwargs):
        with _argparse_en_espanol():
            super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        with _argparse_en_espanol():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):
        with _argparse_en_espanol():
            return super().parse_known_args(args, namespace)

    def format_help(self):
        with _argparse_en_espanol():
            return super().format_help()

    def format_usage(self):
        with _argparse_en_espanol():
            return super().format_usage()

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nAyuda: {self.prog} -h\n")
