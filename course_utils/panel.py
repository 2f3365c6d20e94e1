"""El panel de los widgets del curso: controles, texto y una imagen, mostrado una sola vez, sin pyplot."""

from __future__ import annotations

import html
import io

import ipywidgets as w
from IPython.display import display
from matplotlib.figure import Figure


class Panel(w.VBox):
    """Caja con los controles y resultados de un panel; se muestra una sola vez."""

    def __init__(self, titulo: str, controles: dict, texto: w.HTML, imagen: w.Image | None = None, envolver=False):
        fila = w.Layout(flex_flow="row wrap") if envolver else None
        cabecera = [w.HBox(list(controles.values()), **({"layout": fila} if fila else {}))] if controles else []
        super().__init__(children=[*cabecera, texto, *([imagen] if imagen is not None else [])])
        self.titulo, self.controles, self.texto, self.imagen = titulo, controles, texto, imagen
        self._mostrado = False

    def __repr__(self) -> str:
        return f"[panel interactivo «{self.titulo}»: ábrelo en JupyterLab o Jupyter Notebook para usarlo]"

    def _ipython_display_(self):
        """Se muestra al crearlo; si además es la última expresión de la celda, no se repite."""
        if not self._mostrado:
            self._mostrado = True
            display(self._repr_mimebundle_(), raw=True)


def pre(texto: str) -> str:
    """Texto de un panel como HTML preformateado (escapado)."""
    return f"<pre style='margin:0; white-space:pre-wrap'>{html.escape(texto)}</pre>"


def png(fig: Figure) -> bytes:
    """Una figura de matplotlib como PNG para un `ipywidgets.Image`."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()
