"""Inspección de una carpeta de imágenes: estructura, archivos problemáticos y duplicados."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import unicodedata
import warnings
from collections import defaultdict
from pathlib import Path

from PIL import Image, UnidentifiedImageError

EXTENSIONES_IMAGEN = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MODOS_CONVERTIBLES = {"L", "LA", "P", "PA", "RGBA", "CMYK", "I", "I;16", "I;16B", "1", "F"}
TAM_MINIMO_IMAGEN = 32
MINIMO_POR_CLASE = 10
DOCUMENTACION = {"license.txt", "readme.txt", "readme.md", "leeme.txt", "demo.txt"}
NOMBRES_PARTICION = {
    "train": "entrenamiento",
    "entrenamiento": "entrenamiento",
    "validation": "validacion",
    "val": "validacion",
    "validacion": "validacion",
    "valid": "validacion",
    "test": "prueba",
    "prueba": "prueba",
}


ORDEN_PARTICIONES = ("entrenamiento", "validacion", "prueba")
ARREGLO_UTF8 = (
    "Arreglo: renómbralos en UTF-8; en Linux, `convmv -f latin1 -t utf8 -r CARPETA` enseña los cambios y, "
    "con `--notest`, los hace."
)


class DatosInvalidos(ValueError):
    """Error de datos con un mensaje en español que nombra el problema y su arreglo."""


class ImagenIlegible(DatosInvalidos):
    """Un archivo que no se puede leer como imagen; el mensaje dice por qué, en español, y qué hacer."""


def mostrar(ruta) -> str:
    """Una ruta o un nombre listos para imprimir: los bytes que no son UTF-8 salen como `\\xNN`."""
    return os.fsencode(str(ruta)).decode("utf-8", "backslashreplace")


def es_utf8(nombre: str) -> bool:
    """Indica si un nombre de archivo leído del disco es UTF-8 válido (sin bytes sustituidos)."""
    try:
        nombre.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def nfc(texto: str) -> str:
    """Forma NFC de un nombre: «ñ» escrita como una letra (Linux, Windows) o como n + tilde (macOS) es la misma."""
    return unicodedata.normalize("NFC", texto)


def motivo_ilegible(exc: BaseException, ruta: Path | None = None) -> str:
    """Por qué PIL no puede leer una imagen, en español y con el arreglo."""
    texto = str(exc)
    if isinstance(exc, Image.DecompressionBombError):
        pixeles = re.search(r"\((\d+) pixels\)", texto)
        tam = f"{int(pixeles.group(1)) / 1e6:.0f} Mpx, " if pixeles else ""
        limite = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        return (
            f"posible bomba de descompresión ({tam}más que el límite de seguridad de {limite:.0f} Mpx): pocos KB "
            "en disco que ocuparían GB de memoria al abrirla. Si es una foto real, redúcela con un editor de "
            "imágenes; si no, sácala de la carpeta"
        )
    if ruta is not None and ruta.is_file() and ruta.stat().st_size == 0:
        return (
            "archivo vacío (0 bytes; ¿una copia o descarga que no terminó?): vuelve a copiarlo o sácalo de la carpeta"
        )
    if "truncated" in texto.lower():
        return (
            "imagen truncada: el archivo se corta antes de terminar (¿una copia o descarga interrumpida?). "
            "Vuelve a copiarla o sácala de la carpeta"
        )
    if isinstance(exc, UnidentifiedImageError):
        return (
            "el contenido no es una imagen que se pueda reconocer, aunque la extensión lo parezca (¿otro tipo de "
            "archivo renombrado, o dañado?). Ábrelo con un visor de imágenes; si no se ve, sácalo de la carpeta"
        )
    detalle = texto.splitlines()[0][:80] if texto else type(exc).__name__
    return (
        f"imagen dañada, no se puede decodificar (detalle de PIL: {detalle}). Vuelve a copiarla o sácala de la carpeta"
    )


@dataclasses.dataclass
class Imagen:
    """Una imagen válida: ruta, clase, partición dada (si la hay) y huella del contenido."""

    ruta: Path
    clase: str
    particion: str | None
    huella: str


@dataclasses.dataclass
class Informe:
    """Resultado de `inspeccionar`: imágenes válidas, problemas y errores."""

    raiz: Path
    estructura: str = "clases"
    clases: list[str] = dataclasses.field(default_factory=list)
    validas: list[Imagen] = dataclasses.field(default_factory=list)
    corruptas: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    no_imagenes: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    convertidas: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    pequenas: list[tuple[Path, tuple[int, int]]] = dataclasses.field(default_factory=list)
    duplicados_misma_clase: list[list[Path]] = dataclasses.field(default_factory=list)
    duplicados_entre_clases: list[list[Path]] = dataclasses.field(default_factory=list)
    fugas_entre_particiones: list[list[Path]] = dataclasses.field(default_factory=list)
    carpetas_anidadas: list[Path] = dataclasses.field(default_factory=list)
    nombres_no_utf8: list[Path] = dataclasses.field(default_factory=list)
    avisos: list[str] = dataclasses.field(default_factory=list)
    errores: list[str] = dataclasses.field(default_factory=list)

    @property
    def utilizable(self) -> bool:
        """Indica si la carpeta se puede usar para entrenar."""
        return not self.errores

    def por_clase(self) -> dict[str, int]:
        """Cuenta las imágenes válidas de cada clase."""
        cuentas = {c: 0 for c in self.clases}
        for img in self.validas:
            cuentas[img.clase] += 1
        return cuentas

    def texto(self, max_por_seccion: int = 20) -> str:
        """Redacta el informe en español, nombrando cada archivo con problemas."""
        return _redactar(self, max_por_seccion)


def _huella(ruta: Path) -> str:
    return hashlib.sha256(ruta.read_bytes()).hexdigest()


def _examinar(ruta: Path, informe: Informe, tam_minimo: int) -> bool:
    """Abre y decodifica una imagen; anota el problema y devuelve si es válida."""
    if not es_utf8(ruta.name):
        informe.nombres_no_utf8.append(ruta)
        return False
    if ruta.name.startswith(".") or ruta.suffix.lower() not in EXTENSIONES_IMAGEN:
        motivo = "formato GIF no admitido (suele ser un marcador de posición o una animación)"
        if ruta.suffix.lower() != ".gif":
            motivo = "no es una imagen admitida (se aceptan JPG, PNG, BMP y WEBP)"
        informe.no_imagenes.append((ruta, motivo))
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(ruta) as img:
                img.load()
                modo, tam = img.mode, img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        informe.corruptas.append((ruta, motivo_ilegible(exc, ruta)))
        return False
    if modo in MODOS_CONVERTIBLES:
        informe.convertidas.append((ruta, modo))
    if min(tam) < tam_minimo:
        informe.pequenas.append((ruta, tam))
        return False
    return True


def detectar_estructura(raiz: Path) -> tuple[str, dict[str, Path]]:
    """Distingue `raiz/<clase>/*` de `raiz/{train,validation,test}/<clase>/*`."""
    raiz = Path(raiz)
    if raiz.is_file():
        raise DatosInvalidos(
            f"{mostrar(raiz)} es un archivo, no una carpeta. Pasa la carpeta que contiene una subcarpeta por "
            f"clase (`CARPETA/<clase>/imagen.jpg`), por ejemplo {mostrar(raiz.parent)}."
        )
    if not raiz.is_dir():
        raise DatosInvalidos(
            f"No existe la carpeta {mostrar(raiz)}. Comprueba la ruta o, para las flores, "
            "ejecuta `python -m course_utils descargar --datos`."
        )
    subcarpetas = sorted(p for p in raiz.iterdir() if p.is_dir() and not p.name.startswith("."))
    particiones = {p.name.lower(): p for p in subcarpetas if p.name.lower() in NOMBRES_PARTICION}
    if not particiones:
        return "clases", {}
    por_destino = defaultdict(list)
    for nombre, carpeta in particiones.items():
        por_destino[NOMBRES_PARTICION[nombre]].append(carpeta.name)
    repetidas = {d: sorted(n) for d, n in por_destino.items() if len(n) > 1}
    if repetidas:
        destino, nombres = next(iter(repetidas.items()))
        raise DatosInvalidos(
            f"En {mostrar(raiz)} hay varias carpetas para la misma partición ({destino}): "
            f"{' y '.join(f'`{n}/`' for n in nombres)}. El curso no elige una por ti ni las mezcla: deja solo "
            "una (mueve la otra fuera de esta carpeta o junta sus imágenes en la que quede)."
        )
    otras = [p.name for p in subcarpetas if p.name.lower() not in NOMBRES_PARTICION]
    if otras:
        raise DatosInvalidos(
            f"Estructura mezclada en {raiz}: hay carpetas de partición "
            f"({', '.join(sorted(particiones))}) y también otras ({', '.join(otras)}). "
            "Usa `raiz/<clase>/imagen.jpg` o bien `raiz/train|validation|test/<clase>/imagen.jpg`."
        )
    return "particionada", {NOMBRES_PARTICION[k]: v for k, v in particiones.items()}


def _recorrer_clases(carpeta: Path, particion: str | None, informe: Informe, tam_minimo: int):
    """Recorre `carpeta/<clase>/*` y devuelve las imágenes válidas por clase (nombres de clase en NFC)."""
    encontradas: dict[str, list[Imagen]] = {}
    for suelto in sorted(p for p in carpeta.iterdir() if p.is_file()):
        if not suelto.name.startswith(".") and suelto.name.lower() not in DOCUMENTACION:
            informe.no_imagenes.append((suelto, "archivo suelto fuera de una carpeta de clase"))
    for dir_clase in sorted(p for p in carpeta.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not es_utf8(dir_clase.name):
            informe.nombres_no_utf8.append(dir_clase)
            continue
        clase = nfc(dir_clase.name)
        encontradas.setdefault(clase, [])
        for ruta in sorted(dir_clase.iterdir()):
            if ruta.is_dir():
                informe.carpetas_anidadas.append(ruta)
            elif _examinar(ruta, informe, tam_minimo):
                encontradas[clase].append(Imagen(ruta, clase, particion, _huella(ruta)))
    return encontradas


def _marcar_duplicados(informe: Informe) -> None:
    """Agrupa por huella: dentro de una clase se conservan; entre clases se excluyen.

    Con particiones dadas por el usuario, una misma foto en dos de ellas (p. ej. `train/` y `test/`) es
    una fuga: se informa aparte, porque esas copias no pueden ir «siempre en la misma partición».
    """
    grupos: dict[str, list[Imagen]] = defaultdict(list)
    for img in informe.validas:
        grupos[img.huella].append(img)
    ambiguas = set()
    for huella, imgs in grupos.items():
        if len(imgs) < 2:
            continue
        rutas = [i.ruta for i in imgs]
        if len({i.clase for i in imgs}) > 1:
            informe.duplicados_entre_clases.append(rutas)
            ambiguas.add(huella)
        elif len({i.particion for i in imgs}) > 1:
            por_orden = sorted(imgs, key=lambda i: ORDEN_PARTICIONES.index(i.particion))
            informe.fugas_entre_particiones.append([i.ruta for i in por_orden])
        else:
            informe.duplicados_misma_clase.append(rutas)
    informe.validas = [i for i in informe.validas if i.huella not in ambiguas]


def _subcarpetas(informe: Informe, carpeta: Path, clase: str) -> list[str]:
    return sorted(
        p.name for p in informe.carpetas_anidadas if p.parent.parent == carpeta and nfc(p.parent.name) == clase
    )


def _comprobar_clases(informe: Informe, encontradas: dict, minimo: int, carpeta: Path, sufijo: str = "") -> bool:
    """Anota los errores de cada clase; devuelve si alguna parece una carpeta que envuelve a las clases."""
    validas = {i.ruta for i in informe.validas}
    envoltorio = False
    for clase, imgs in encontradas.items():
        n = sum(1 for i in imgs if i.ruta in validas)
        dentro = _subcarpetas(informe, carpeta, clase) if n == 0 else []
        if dentro:
            envoltorio = True
            muestra = ", ".join(dentro[:4]) + (", …" if len(dentro) > 4 else "")
            donde = (
                f"Apunta a la carpeta interior: `python -m course_utils inspeccionar {mostrar(carpeta / clase)}` "
                f'(en el cuaderno, CARPETA = "{mostrar(carpeta / clase)}")'
                if not sufijo
                else f"Las carpetas de clase van directamente dentro de la partición (`{carpeta.name}/<clase>/imagen.jpg`)"
            )
            informe.errores.append(
                f"La carpeta «{clase}»{sufijo} no tiene imágenes sino subcarpetas ({muestra}): parece que las "
                f"carpetas de clase están un nivel más abajo. {donde}. No hace falta mover ni borrar nada."
            )
        elif n == 0:
            informe.errores.append(
                f"La clase «{clase}»{sufijo} no tiene ninguna imagen válida. Añade imágenes a esa carpeta o "
                f"muévela fuera de {mostrar(informe.raiz)} (el curso no borra nada por ti)."
            )
        elif n < minimo:
            informe.errores.append(
                f"La clase «{clase}»{sufijo} tiene solo {n} imagen(es) válida(s); se necesitan al "
                f"menos {minimo} para repartir entre entrenamiento, validación y prueba. "
                "Añade más imágenes a esa carpeta."
            )
    return envoltorio


def inspeccionar(
    raiz: str | Path,
    tam_minimo: int = TAM_MINIMO_IMAGEN,
    minimo_por_clase: int = MINIMO_POR_CLASE,
) -> Informe:
    """Revisa una carpeta de imágenes sin modificar nada y devuelve un `Informe`."""
    raiz = Path(raiz)
    estructura, particiones = detectar_estructura(raiz)
    informe = Informe(raiz=raiz, estructura=estructura)
    bloques = particiones.items() if particiones else [(None, raiz)]
    encontradas_por_bloque = {}
    for particion, carpeta in bloques:
        encontradas = _recorrer_clases(carpeta, particion, informe, tam_minimo)
        encontradas_por_bloque[particion] = (carpeta, encontradas)
        for imgs in encontradas.values():
            informe.validas.extend(imgs)
    _marcar_duplicados(informe)
    _comprobar_estructura(informe, encontradas_por_bloque, minimo_por_clase)
    return informe


def _avisar_reparto(informe: Informe, bloques: dict) -> None:
    """Dice cómo se completan las particiones que faltan (la partición la hace `particion.particionar`)."""
    nombre = {p: f"`{carpeta.name}/`" for p, (carpeta, _) in bloques.items()}
    tr = nombre["entrenamiento"]
    if "validacion" not in bloques and "prueba" not in bloques:
        informe.avisos.append(
            f"Solo hay {tr}: la validación y la prueba se separan de {tr}, por clase y de forma "
            "determinista (70 % entrenamiento, 15 % validación, 15 % prueba)."
        )
    elif "validacion" not in bloques:
        informe.avisos.append(
            f"Hay {tr} y {nombre['prueba']} pero no validación: la validación es el 15 % de cada clase de {tr} "
            f"(determinista); {nombre['prueba']} se usa entera como prueba."
        )
    elif "prueba" not in bloques:
        informe.avisos.append(
            f"Hay {tr} y {nombre['validacion']} pero no prueba: {nombre['validacion']} se parte en dos mitades, "
            "validación y prueba (por clase y de forma determinista)."
        )


def _comprobar_estructura(informe: Informe, bloques: dict, minimo: int) -> None:
    envoltorio = False
    if informe.estructura == "clases":
        carpeta, encontradas = bloques[None]
        informe.clases = sorted(encontradas)
        envoltorio = _comprobar_clases(informe, encontradas, minimo, carpeta)
    else:
        if "entrenamiento" not in bloques:
            informe.errores.append(
                f"En {mostrar(informe.raiz)} hay carpetas de partición pero falta `train/` "
                "(o `entrenamiento/`). Crea esa carpeta con una subcarpeta por clase."
            )
            return
        informe.clases = sorted(bloques["entrenamiento"][1])
        _avisar_reparto(informe, bloques)
        for particion in sorted(bloques, key=ORDEN_PARTICIONES.index):
            carpeta, encontradas = bloques[particion]
            faltan = set(informe.clases) - set(encontradas)
            if faltan:
                informe.errores.append(
                    f"A la partición «{particion}» (`{carpeta.name}/`) le faltan las clases {sorted(faltan)}. "
                    "Cada partición debe tener las mismas subcarpetas de clase."
                )
            # Sin `test/`, la validación se parte en dos: cada clase necesita al menos una imagen en cada mitad.
            necesarias = minimo if particion == "entrenamiento" else 1
            if particion == "validacion" and "prueba" not in bloques:
                necesarias = 2
            envoltorio |= _comprobar_clases(informe, encontradas, necesarias, carpeta, f" en «{particion}»")
    if len(informe.clases) < 2 and not envoltorio:
        informe.errores.append(
            f"En {mostrar(informe.raiz)} hay {len(informe.clases)} clase(s); un clasificador necesita al menos 2. "
            "Organiza las imágenes como `raiz/<clase>/imagen.jpg`, una carpeta por clase."
        )


def _seccion(titulo: str, filas: list[str], maximo: int) -> list[str]:
    if not filas:
        return []
    lineas = [f"\n{titulo} ({len(filas)}):"]
    lineas += [f"  - {f}" for f in filas[:maximo]]
    if len(filas) > maximo:
        lineas.append(f"  … y {len(filas) - maximo} más.")
    return lineas


def _redactar(inf: Informe, maximo: int) -> str:
    r = inf.raiz

    def rel(p: Path) -> str:
        return mostrar(p.relative_to(r))

    lineas = [f"Informe de la carpeta {mostrar(r)}", f"Estructura: {inf.estructura}"]
    lineas.append("Imágenes válidas por clase: " + ", ".join(f"{c}={n}" for c, n in inf.por_clase().items()))
    lineas += _seccion("Particiones", inf.avisos, maximo)
    lineas += _seccion(
        "Archivos corruptos o ilegibles (se excluyen)", [f"{rel(p)}: {m}" for p, m in inf.corruptas], maximo
    )
    no_utf8 = [rel(p) + ("/" if p.is_dir() else "") for p in inf.nombres_no_utf8]
    lineas += _seccion("Nombres que no son UTF-8 (se excluyen)", no_utf8 + [ARREGLO_UTF8] * bool(no_utf8), maximo)
    lineas += _seccion(
        "Archivos que no son imágenes admitidas (se ignoran)", [f"{rel(p)}: {m}" for p, m in inf.no_imagenes], maximo
    )
    lineas += _seccion(
        "Imágenes que se convertirán a RGB (se conservan)", [f"{rel(p)}: modo {m}" for p, m in inf.convertidas], maximo
    )
    lineas += _seccion(
        f"Imágenes demasiado pequeñas (lado menor < {TAM_MINIMO_IMAGEN} px por defecto; se excluyen)",
        [f"{rel(p)}: {w}x{h} px" for p, (w, h) in inf.pequenas],
        maximo,
    )
    lineas += _seccion(
        "Duplicados exactos dentro de una clase (se conservan, siempre en la misma partición)",
        [" = ".join(rel(p) for p in g) for g in inf.duplicados_misma_clase],
        maximo,
    )
    lineas += _seccion(
        "FUGAS: la misma foto en dos de tus particiones (se conservan, pero la exactitud de validación o de "
        "prueba saldrá optimista; quita la copia de validation/ o de test/)",
        [" = ".join(rel(p) for p in g) for g in inf.fugas_entre_particiones],
        maximo,
    )
    lineas += _seccion(
        "Duplicados exactos entre clases distintas (etiqueta ambigua; se excluyen todas las copias)",
        [" = ".join(rel(p) for p in g) for g in inf.duplicados_entre_clases],
        maximo,
    )
    lineas += _seccion(
        "Carpetas anidadas dentro de una clase (se ignoran)", [rel(p) for p in inf.carpetas_anidadas], maximo
    )
    lineas += _seccion("ERRORES (la carpeta no se puede usar así)", inf.errores, maximo)
    veredicto = "La carpeta se puede usar." if inf.utilizable else "La carpeta NO se puede usar todavía."
    lineas.append(f"\n{veredicto} No se ha modificado ni borrado ningún archivo.")
    return "\n".join(lineas)
