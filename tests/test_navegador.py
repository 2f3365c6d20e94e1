"""Pruebas en un navegador de verdad: JupyterLab sin interfaz y Chromium de Debian manejado con Playwright.

Un solo servidor de JupyterLab y un solo Chromium para todo el módulo:

- el cuaderno 00: se ejecutan todas sus celdas desde el menú «Run» y el mapa del curso se dibuja COMO WIDGET
  (no como texto ni como «Error displaying widget») y responde al elegir otro cuaderno;
- cada widget de `course_utils.widgets` y el laboratorio de la cabeza, en un cuaderno pequeño que se genera al
  vuelo con datos sintéticos (registros simulados, un modelo de Keras diminuto exportado, unas imágenes y
  características aleatorias): se cambia un control (una opción, un deslizador o un archivo subido) y se
  comprueba que cambian su texto y su imagen.

Guarda una captura de cada uno en `$CURSO_BUILD_DIR/navegador/` (o `build/navegador/`). Se omiten si faltan
Chromium o Playwright (`.ci/instalar_navegador.sh .venv` los instala), salvo con CI=true: entonces fallan.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import carpeta_clases, crear_imagen

RAIZ = Path(__file__).resolve().parents[1]
CUADERNO = "00_bienvenida_y_entorno.ipynb"
CUADERNO_WIDGETS = "widgets/prueba_widgets.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
ESPERA_S = 180
# Sin red: sin estas opciones Chromium intenta conectar con servicios de Google una y otra vez.
OPCIONES_CHROMIUM = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.cuadernos
# En la CI (CI=true) la prueba en navegador es obligatoria: si falta Chromium o Playwright, falla en vez de omitirse.
EN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _falta(que: str) -> None:
    mensaje = f"{que}: ejecuta `bash .ci/instalar_navegador.sh .venv`"
    if EN_CI:
        pytest.fail(f"{mensaje} (con CI=true esta prueba no se omite)", pytrace=False)
    pytest.skip(mensaje)


@pytest.fixture(scope="module")
def sync_api():
    """La API síncrona de Playwright; sin Chromium o sin Playwright, se omite (o falla, con CI=true)."""
    if not CHROMIUM.is_file():
        _falta(f"no está {CHROMIUM} (Chromium de Debian)")
    try:
        from playwright import sync_api
    except ImportError:
        _falta("falta playwright")
    return sync_api


def puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- El cuaderno de los widgets, generado con datos sintéticos diminutos ----------------------------------------

CLASES = ["a", "b", "c"]


def registro(arquitectura, estrategia, exactitud, segundos, etiqueta="") -> dict:
    """Un registro como los de entrenar_y_evaluar, con solo los campos que leen los paneles."""
    return {
        "arquitectura": arquitectura, "estrategia": estrategia, "etiqueta": etiqueta, "test_accuracy": exactitud,
        "val_accuracy": exactitud - 0.05, "segundos_total": segundos, "parametros_entrenables": 1000,
        "imagenes_prueba": 100, "imagenes_por_clase": 12, "semilla": 42, "pesos": "local", "modo": "rapido",
        "fecha": "2026-01-01T00:00:00",
    }  # fmt: skip


REGISTROS = [
    registro("vgg16", "extraccion", 0.80, 30.0),
    registro("vgg16", "fine_tuning", 0.85, 90.0),
    registro("mobilenet_v2", "extraccion", 0.70, 5.0),
]
BARRIDO = [registro("mobilenet_v2", "fine_tuning", x, 10.0 * n, f"descongelar_{n}") for n, x in [(1, 0.5), (3, 0.7)]]

# Una celda por widget; cada panel recibe una clase CSS para encontrarlo en la página.
CELDAS_WIDGETS = [
    """import json
from pathlib import Path

import keras
import numpy as np

from course_utils import exportacion, laboratorio, widgets

datos = json.loads(Path("datos.json").read_text(encoding="utf-8"))
CLASES = datos["clases"]""",
    """comparador = widgets.comparador_resultados(datos["registros"])
comparador.add_class("prueba-comparador")""",
    """keras.utils.set_random_seed(0)
modelo = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                           keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(len(CLASES), activation="softmax")])
rutas = sorted(Path("imagenes").rglob("*.png"))
explorador = widgets.explorador_predicciones(modelo, rutas, CLASES, lambda x: x / 255.0, 16)
explorador.add_class("prueba-explorador")""",
    """descongelar = widgets.control_descongelar(datos["barrido"])
descongelar.add_class("prueba-descongelar")""",
    """ruta = exportacion.exportar(modelo, Path("modelo.keras"), clases=CLASES, arquitectura="cnn_desde_cero", tam=16,
                           estrategia="desde_cero")
subir = widgets.subir_y_predecir(ruta)
subir.add_class("prueba-subir")""",
    """rng = np.random.default_rng(0)


def cache(dimension, n=60, n_val=15):
    centros = rng.normal(size=(len(CLASES), dimension))
    y, y_val = np.arange(n) % len(CLASES), np.arange(n_val) % len(CLASES)
    return ((centros[y] + 2 * rng.normal(size=(n, dimension))).astype("float32"), y), \\
           ((centros[y_val] + 2 * rng.normal(size=(n_val, dimension))).astype("float32"), y_val)


lab = laboratorio.laboratorio_cabeza({"mobilenet_v2": cache(16), "vgg16": cache(24)}, CLASES, epocas=5, lote=16)
lab.add_class("prueba-laboratorio")""",
]


def cuaderno(celdas: list[str]) -> dict:
    codigo = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c} for c in celdas
    ]
    nucleo = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"cells": codigo, "metadata": {"kernelspec": nucleo}, "nbformat": 4, "nbformat_minor": 4}


def preparar_raiz(tmp: Path) -> Path:
    """Carpeta servida: una copia del cuaderno 00 y el cuaderno de los widgets con sus datos.

    course_utils llega instalado con `pip install -e .`.
    """
    raiz = tmp / "raiz"
    (raiz / "notebooks").mkdir(parents=True)
    shutil.copy(RAIZ / "notebooks" / CUADERNO, raiz / "notebooks" / CUADERNO)
    carpeta = (raiz / CUADERNO_WIDGETS).parent
    carpeta_clases(carpeta / "imagenes", {c: 1 for c in CLASES}, tam=(20, 20))
    datos = {"clases": CLASES, "registros": REGISTROS, "barrido": BARRIDO}
    (carpeta / "datos.json").write_text(json.dumps(datos), encoding="utf-8")
    (raiz / CUADERNO_WIDGETS).write_text(json.dumps(cuaderno(CELDAS_WIDGETS)), encoding="utf-8")
    crear_imagen(tmp / "subida" / "flor.png", (24, 18), semilla=7)  # la que se sube: fuera de la carpeta servida
    ajustes = tmp / "ajustes" / "@jupyterlab" / "apputils-extension"
    ajustes.mkdir(parents=True)
    (ajustes / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    return raiz


# --- Servidor y navegador, uno para todo el módulo ------------------------------------------------------------


def esperar_servidor(url: str, proceso: subprocess.Popen, registro: Path) -> None:
    limite = time.monotonic() + ESPERA_S
    while time.monotonic() < limite:
        if proceso.poll() is not None:
            pytest.fail(
                f"JupyterLab terminó al arrancar (código {proceso.returncode}):\n{registro.read_text()[-3000:]}"
            )
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab no respondió en {ESPERA_S} s:\n{registro.read_text()[-3000:]}")


def apagar_kernels(base: str, token: str) -> None:
    """Apaga los kernels por la API del servidor antes de pararlo, para no dejar procesos sueltos."""
    try:
        kernels = json.load(urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10))
        for kernel in kernels:
            peticion = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(peticion, timeout=30)
    except OSError:
        pass  # el servidor ya no responde: terminarlo basta


@pytest.fixture(scope="module")
def jupyterlab(sync_api, tmp_path_factory):
    """JupyterLab en localhost con puerto libre, token aleatorio y carpetas propias; se para al terminar.

    `url(ruta)` abre un cuaderno en su propio espacio de trabajo, para que dos páginas no se pisen las pestañas.
    """
    tmp_path = tmp_path_factory.mktemp("navegador")
    raiz, puerto, token = preparar_raiz(tmp_path), puerto_libre(), secrets.token_hex(16)
    entorno = {
        **os.environ,
        "CURSO_MODO": "rapido",
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "CURSO_RESULTADOS_DIR": str(tmp_path / "resultados"),
    }
    orden = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={puerto}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={raiz}",
        f"--LabApp.user_settings_dir={tmp_path / 'ajustes'}", f"--LabApp.workspaces_dir={tmp_path / 'espacios'}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ] + (["--allow-root"] if os.geteuid() == 0 else [])  # fmt: skip
    registro = tmp_path / "jupyterlab.log"
    with open(registro, "w") as salida:
        proceso = subprocess.Popen(orden, env=entorno, stdout=salida, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{puerto}"

    def url(ruta: str) -> str:
        espacio = Path(ruta).stem
        return f"{base}/lab/workspaces/{espacio}/tree/{ruta}?token={token}"

    try:
        esperar_servidor(f"{base}/api/status?token={token}", proceso, registro)
        yield {"url": url, "tmp": tmp_path}
    finally:
        apagar_kernels(base, token)
        proceso.send_signal(signal.SIGTERM)
        try:
            proceso.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proceso.pid, signal.SIGKILL)
            proceso.wait(timeout=30)


@pytest.fixture(scope="module")
def navegador(sync_api, jupyterlab):
    """Un Chromium sin interfaz para todas las pruebas del módulo; cada una abre sus páginas en él."""
    with sync_api.sync_playwright() as p:
        contexto = p.chromium.launch_persistent_context(
            str(jupyterlab["tmp"] / "perfil_chromium"), executable_path=str(CHROMIUM), headless=True,
            args=OPCIONES_CHROMIUM, viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            yield contexto
        finally:
            contexto.close()


# Estado del cuaderno abierto, leído de la aplicación de JupyterLab (expuesta con expose_app_in_browser).
JS_ESTADO = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.content) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const celdas = panel.content.widgets.filter(c => c.model.type === 'code');
  const errores = celdas.flatMap(c => c.model.outputs.toJSON().filter(o => o.output_type === 'error')
                                        .map(o => o.ename + ': ' + o.evalue));
  return {kernel: kernel ? kernel.status : null, celdas: celdas.length,
          ejecutadas: celdas.filter(c => c.model.executionCount !== null).length, errores};
}"""


def esperar_estado(pagina, condicion: str, descripcion: str) -> dict:
    from playwright.sync_api import TimeoutError as TiempoAgotado

    try:
        pagina.wait_for_function(f"() => {{ const e = ({JS_ESTADO})(); return e && ({condicion}); }}",
                                 timeout=ESPERA_S * 1000, polling=1000)  # fmt: skip
    except TiempoAgotado:
        pytest.fail(f"Tras {ESPERA_S} s, {descripcion} no se cumple; estado: {pagina.evaluate(JS_ESTADO)}")
    return pagina.evaluate(JS_ESTADO)


def ejecutar_todo(pagina) -> dict:
    """Abre el menú «Run» y pulsa «Run All Cells», como haría un estudiante; espera al kernel libre."""
    esperar_estado(pagina, "e.kernel === 'idle'", "el kernel listo")
    pagina.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    pagina.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    fin = "(e.ejecutadas === e.celdas || e.errores.length > 0) && e.kernel === 'idle'"
    return esperar_estado(pagina, fin, "todas las celdas ejecutadas (o un error)")


def abrir_y_ejecutar(navegador, url: str):
    """Una página nueva con el cuaderno abierto y todas sus celdas ejecutadas sin errores."""
    pagina = navegador.new_page()
    pagina.set_default_timeout(ESPERA_S * 1000)
    pagina.goto(url, wait_until="domcontentloaded")
    pagina.wait_for_selector(".jp-Notebook .jp-Cell")
    estado = ejecutar_todo(pagina)
    assert not estado["errores"], f"el cuaderno falló en el navegador: {estado['errores']}"
    pagina.wait_for_function("() => !document.body.innerText.includes('Loading widget')", timeout=ESPERA_S * 1000)
    return pagina, estado


def carpeta_capturas() -> Path:
    carpeta = Path(os.environ.get("CURSO_BUILD_DIR", RAIZ / "build")) / "navegador"
    carpeta.mkdir(parents=True, exist_ok=True)
    return carpeta


def sin_errores_de_widgets(pagina) -> None:
    texto = pagina.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in texto and "Loading widget" not in texto


# --- El mapa del curso (cuaderno 00) ---------------------------------------------------------------------------


def test_el_mapa_del_curso_se_ve_como_widget_en_jupyterlab(navegador, jupyterlab, capsys):
    inicio = time.perf_counter()
    captura = carpeta_capturas() / "00_mapa_del_curso.png"
    pagina = None
    try:
        pagina, estado = abrir_y_ejecutar(navegador, jupyterlab["url"](f"notebooks/{CUADERNO}"))
        widget = pagina.locator(".jp-OutputArea-output .jupyter-widgets.widget-vbox").first
        widget.wait_for(state="visible")
        desplegable = widget.locator(".widget-dropdown select")
        ficha = widget.locator(".widget-html")
        assert "Bienvenida" in ficha.inner_text()
        desplegable.select_option(index=1)  # viaja al kernel y vuelve: el widget está vivo
        pagina.wait_for_function(
            "el => !el.innerText.includes('Bienvenida') && el.innerText.includes('Tiempo')",
            arg=ficha.element_handle(),
            timeout=ESPERA_S * 1000,
        )
        sin_errores_de_widgets(pagina)
        widget.scroll_into_view_if_needed()
        pagina.screenshot(path=str(captura))
    except Exception:
        if pagina is not None:
            pagina.screenshot(path=str(captura.with_name("00_fallo.png")))
        raise
    finally:
        if pagina is not None:
            pagina.close()
    segundos = time.perf_counter() - inicio
    with capsys.disabled():
        print(f"\nPrueba en navegador: {estado['celdas']} celdas ejecutadas y widget visible en {segundos:.1f} s")
        print(f"Captura: {captura}")


# --- Cada widget en el cuaderno generado -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pagina_widgets(navegador, jupyterlab):
    """El cuaderno de los widgets abierto y ejecutado una sola vez; todas las pruebas de widgets lo comparten."""
    inicio = time.perf_counter()
    pagina, estado = abrir_y_ejecutar(navegador, jupyterlab["url"](CUADERNO_WIDGETS))
    print(f"\nCuaderno de widgets: {estado['celdas']} celdas ejecutadas en {time.perf_counter() - inicio:.1f} s")
    yield pagina
    pagina.close()


def salida(widget) -> dict:
    """Lo que muestra un panel: el texto de su HTML y el `src` de su imagen (un blob nuevo en cada cambio)."""
    imagen = widget.locator("img")
    return {
        "texto": widget.locator(".widget-html").first.inner_text(),
        "imagen": imagen.first.get_attribute("src") if imagen.count() else None,
    }


def esperar_cambio(pagina, widget, antes: dict, contiene: str) -> dict:
    """Espera a que cambien el texto (que acabe incluyendo `contiene`) y la imagen del panel."""
    pagina.wait_for_function(
        """([el, antes, contiene]) => {
             const html = el.querySelector('.widget-html'), img = el.querySelector('img');
             const src = img ? img.getAttribute('src') : null;
             return html && html.innerText !== antes.texto && html.innerText.includes(contiene)
                    && src && src !== antes.imagen;
           }""",
        arg=[widget.element_handle(), antes, contiene],
        timeout=ESPERA_S * 1000,
    )
    return salida(widget)


def mover_deslizador(widget, descripcion: str, teclas: int = 1) -> None:
    """Mueve con el teclado el deslizador cuya etiqueta es `descripcion`, como lo haría alguien con las flechas."""
    deslizador = widget.locator(".widget-slider", has=widget.page.get_by_text(descripcion, exact=True))
    asa = deslizador.locator(".noUi-handle").first
    asa.focus()
    for _ in range(teclas):
        asa.press("ArrowRight")


@pytest.fixture
def panel(pagina_widgets, request):
    """`panel(clase)`: el widget con esa clase CSS, visible; al terminar guarda su captura (si falla, la de la página)."""
    capturas, fallos_antes = [], request.session.testsfailed

    def obtener(clase: str):
        widget = pagina_widgets.locator(f".{clase}").first
        widget.wait_for(state="visible")
        widget.scroll_into_view_if_needed()
        capturas.append((clase.removeprefix("prueba-"), widget))
        return widget

    yield obtener
    fallo = request.session.testsfailed > fallos_antes  # la fase «call» ya se contó cuando llega el teardown
    for nombre, widget in capturas:
        if fallo:
            pagina_widgets.screenshot(path=str(carpeta_capturas() / f"widget_{nombre}_fallo.png"))
        else:
            widget.screenshot(path=str(carpeta_capturas() / f"widget_{nombre}.png"))


def test_comparador_cambia_al_elegir_otra_metrica(pagina_widgets, panel):
    widget = panel("prueba-comparador")
    antes = salida(widget)
    assert "VGG16 · ajuste fino" in antes["texto"].splitlines()[1]  # la mayor exactitud en prueba, arriba
    widget.locator(".widget-dropdown select").first.select_option(label="tiempo de entrenamiento (s)")
    despues = esperar_cambio(pagina_widgets, widget, antes, "tiempo de entrenamiento")
    assert "MobileNetV2 · extracción" in despues["texto"].splitlines()[1]  # el más rápido, arriba
    sin_errores_de_widgets(pagina_widgets)


def test_explorador_cambia_al_elegir_otra_imagen(pagina_widgets, panel):
    widget = panel("prueba-explorador")
    antes = salida(widget)
    assert "a/img_0.png: predicción" in antes["texto"] and "no disponible" not in antes["texto"]
    widget.locator(".widget-dropdown select").first.select_option(index=2)
    despues = esperar_cambio(pagina_widgets, widget, antes, "c/img_0.png: predicción")
    assert "no disponible" not in despues["texto"]  # con Grad-CAM


def test_descongelar_cambia_al_mover_el_deslizador(pagina_widgets, panel):
    widget = panel("prueba-descongelar")
    antes = salida(widget)
    assert "con 1 bloque(s)" in antes["texto"]
    mover_deslizador(widget, "Bloques:")
    despues = esperar_cambio(pagina_widgets, widget, antes, "con 3 bloque(s)")
    assert "Frente a 1 bloque(s)" in despues["texto"]


def test_subir_una_imagen_muestra_su_prediccion(pagina_widgets, panel, jupyterlab):
    widget = panel("prueba-subir")
    antes = salida(widget)
    assert "Sube una imagen" in antes["texto"]
    # El <input type=file> de FileUpload no está en la página: el botón lo abre, como el diálogo de archivos.
    with pagina_widgets.expect_file_chooser() as dialogo:
        widget.locator("button.widget-upload, .widget-upload").first.click()
    dialogo.value.set_files(str(jupyterlab["tmp"] / "subida" / "flor.png"))
    despues = esperar_cambio(pagina_widgets, widget, antes, "flor.png: «")
    assert "con p = " in despues["texto"]


def test_laboratorio_reentrena_al_mover_un_control(pagina_widgets, panel):
    widget = panel("prueba-laboratorio")
    antes = salida(widget)
    assert "MobileNetV2 · todas las imágenes · 5 épocas" in antes["texto"] and "Reentrenada en" in antes["texto"]
    mover_deslizador(widget, "Épocas:")
    despues = esperar_cambio(pagina_widgets, widget, antes, "· 6 épocas ·")
    assert "Antes:" in despues["texto"]  # el ajuste anterior queda listado
    widget.locator(".widget-dropdown select").first.select_option(label="VGG16")
    final = esperar_cambio(pagina_widgets, widget, despues, "VGG16 · todas las imágenes · 6 épocas")
    assert "No se pudo" not in final["texto"]
    sin_errores_de_widgets(pagina_widgets)
