"""Inspección de una carpeta de imágenes: estructura, archivos problemáticos y duplicados."""

from __future__ import annotations

import dataclasses
import hashlib
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


class DatosInvalidos(ValueError):
    """Error de datos con un mensaje en español que nombra el problema y su arreglo."""


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
    carpetas_anidadas: list[Path] = dataclasses.field(default_factory=list)
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
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        informe.corruptas.append((ruta, str(exc).splitlines()[0][:120]))
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
    if not raiz.is_dir():
        raise DatosInvalidos(
            f"No existe la carpeta {raiz}. Comprueba la ruta o, para las flores, "
            "ejecuta `python -m course_utils descargar --datos`."
        )
    subcarpetas = sorted(p for p in raiz.iterdir() if p.is_dir() and not p.name.startswith("."))
    particiones = {p.name.lower(): p for p in subcarpetas if p.name.lower() in NOMBRES_PARTICION}
    if not particiones:
        return "clases", {}
    otras = [p.name for p in subcarpetas if p.name.lower() not in NOMBRES_PARTICION]
    if otras:
        raise DatosInvalidos(
            f"Estructura mezclada en {raiz}: hay carpetas de partición "
            f"({', '.join(sorted(particiones))}) y también otras ({', '.join(otras)}). "
            "Usa `raiz/<clase>/imagen.jpg` o bien `raiz/train|validation|test/<clase>/imagen.jpg`."
        )
    return "particionada", {NOMBRES_PARTICION[k]: v for k, v in particiones.items()}


def _recorrer_clases(carpeta: Path, particion: str | None, informe: Informe, tam_minimo: int):
    """Recorre `carpeta/<clase>/*` y devuelve las imágenes válidas por clase."""
    encontradas: dict[str, list[Imagen]] = {}
    for suelto in sorted(p for p in carpeta.iterdir() if p.is_file()):
        if not suelto.name.startswith(".") and suelto.name.lower() not in DOCUMENTACION:
            informe.no_imagenes.append((suelto, "archivo suelto fuera de una carpeta de clase"))
    for dir_clase in sorted(p for p in carpeta.iterdir() if p.is_dir() and not p.name.startswith(".")):
        encontradas[dir_clase.name] = []
        for ruta in sorted(dir_clase.iterdir()):
            if ruta.is_dir():
                informe.carpetas_anidadas.append(ruta)
            elif _examinar(ruta, informe, tam_minimo):
                img = Imagen(ruta, dir_clase.name, particion, _huella(ruta))
                encontradas[dir_clase.name].append(img)
    return encontradas


def _marcar_duplicados(informe: Informe) -> None:
    """Agrupa por huella: dentro de una clase se conservan; entre clases se excluyen."""
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
        else:
            informe.duplicados_misma_clase.append(rutas)
    informe.validas = [i for i in informe.validas if i.huella not in ambiguas]


def _comprobar_clases(informe: Informe, encontradas: dict, minimo: int, sufijo: str = "") -> None:
    validas = {i.ruta for i in informe.validas}
    for clase, imgs in encontradas.items():
        n = sum(1 for i in imgs if i.ruta in validas)
        if n == 0:
            informe.errores.append(
                f"La clase «{clase}»{sufijo} no tiene ninguna imagen válida. "
                "Añade imágenes o elimina esa carpeta (el curso no borra nada por ti)."
            )
        elif n < minimo:
            informe.errores.append(
                f"La clase «{clase}»{sufijo} tiene solo {n} imagen(es) válida(s); se necesitan al "
                f"menos {minimo} para repartir entre entrenamiento, validación y prueba. "
                "Añade más imágenes a esa carpeta."
            )


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
        encontradas_por_bloque[particion] = encontradas
        for imgs in encontradas.values():
            informe.validas.extend(imgs)
    _marcar_duplicados(informe)
    _comprobar_estructura(informe, encontradas_por_bloque, minimo_por_clase)
    return informe


def _comprobar_estructura(informe: Informe, bloques: dict, minimo: int) -> None:
    if informe.estructura == "clases":
        encontradas = bloques[None]
        informe.clases = sorted(encontradas)
        _comprobar_clases(informe, encontradas, minimo)
    else:
        if "entrenamiento" not in bloques:
            informe.errores.append(
                f"En {informe.raiz} hay carpetas de partición pero falta `train/` "
                "(o `entrenamiento/`). Crea esa carpeta con una subcarpeta por clase."
            )
            return
        informe.clases = sorted(bloques["entrenamiento"])
        for particion, encontradas in bloques.items():
            faltan = set(informe.clases) - set(encontradas)
            if faltan:
                informe.errores.append(
                    f"A la partición «{particion}» le faltan las clases {sorted(faltan)}. "
                    "Cada partición debe tener las mismas subcarpetas de clase."
                )
            _comprobar_clases(informe, encontradas, 1 if particion != "entrenamiento" else minimo, f" en «{particion}»")
    if len(informe.clases) < 2:
        informe.errores.append(
            f"En {informe.raiz} hay {len(informe.clases)} clase(s); un clasificador necesita al menos 2. "
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
    lineas = [f"Informe de la carpeta {r}", f"Estructura: {inf.estructura}"]
    lineas.append("Imágenes válidas por clase: " + ", ".join(f"{c}={n}" for c, n in inf.por_clase().items()))
    lineas += _seccion(
        "Archivos corruptos (se excluyen)", [f"{p.relative_to(r)}: {m}" for p, m in inf.corruptas], maximo
    )
    lineas += _seccion(
        "Archivos que no son imágenes admitidas (se ignoran)",
        [f"{p.relative_to(r)}: {m}" for p, m in inf.no_imagenes],
        maximo,
    )
    lineas += _seccion(
        "Imágenes que se convertirán a RGB (se conservan)",
        [f"{p.relative_to(r)}: modo {m}" for p, m in inf.convertidas],
        maximo,
    )
    lineas += _seccion(
        f"Imágenes demasiado pequeñas (lado menor < {TAM_MINIMO_IMAGEN} px por defecto; se excluyen)",
        [f"{p.relative_to(r)}: {w}x{h} px" for p, (w, h) in inf.pequenas],
        maximo,
    )
    lineas += _seccion(
        "Duplicados exactos dentro de una clase (se conservan, siempre en la misma partición)",
        [" = ".join(str(p.relative_to(r)) for p in g) for g in inf.duplicados_misma_clase],
        maximo,
    )
    lineas += _seccion(
        "Duplicados exactos entre clases distintas (etiqueta ambigua; se excluyen todas las copias)",
        [" = ".join(str(p.relative_to(r)) for p in g) for g in inf.duplicados_entre_clases],
        maximo,
    )
    lineas += _seccion(
        "Carpetas anidadas dentro de una clase (se ignoran)",
        [str(p.relative_to(r)) for p in inf.carpetas_anidadas],
        maximo,
    )
    lineas += _seccion("ERRORES (la carpeta no se puede usar así)", inf.errores, maximo)
    veredicto = "La carpeta se puede usar." if inf.utilizable else "La carpeta NO se puede usar todavía."
    lineas.append(f"\n{veredicto} No se ha modificado ni borrado ningún archivo.")
    return "\n".join(lineas)
