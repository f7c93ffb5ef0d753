"""The finance cockpit (Streamlit): `importau cockpit`, or `streamlit run cockpit/app.py`.

The sidebar picks the page, the language, the date range, currencies and banks; the URL carries the page and the
language (`?page=caixa&lang=en`), so a page can be linked and opened directly. Every figure is a query of
`cockpit/queries.py` on the marts; the pages only format and draw what it returns.
"""

import sys
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `streamlit run cockpit/app.py` puts cockpit/ on the path, not the repository
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from cockpit import formatting  # noqa: E402
from cockpit.data import CockpitData, Filters, open_data  # noqa: E402
from cockpit.i18n import LANGUAGES, PAGES, text  # noqa: E402
from cockpit.views import caixa, cambio, conciliacao, fornecedores, hoje, importacoes  # noqa: E402
from cockpit.views.common import Context  # noqa: E402

RENDERERS = {
    "hoje": hoje.render,
    "caixa": caixa.render,
    "cambio": cambio.render,
    "importacoes": importacoes.render,
    "conciliacao": conciliacao.render,
    "fornecedores": fornecedores.render,
}


@st.cache_resource(show_spinner=False)
def shared_data() -> CockpitData:
    """One reader per server process, shared by every browser session."""
    return open_data()


def _choice(name: str, options: list[str], default: str) -> str:
    value = st.query_params.get(name, default)
    return value if value in options else default


def sidebar_filters(data: CockpitData, language: str) -> Filters:
    options = data.frame("FILTER_OPTIONS")
    kinds = {kind: sorted(group["value"]) for kind, group in options.groupby("kind")}
    last = date.fromisoformat(kinds.get("last_day", [date.today().isoformat()])[0])
    first = date.fromisoformat(kinds.get("first_day", [(last - timedelta(days=365)).isoformat()])[0])
    chosen = st.sidebar.date_input(
        text("period", language), value=(first, last), min_value=first - timedelta(days=3650), format="DD/MM/YYYY"
    )
    start, end = (chosen[0], chosen[-1]) if isinstance(chosen, tuple) and chosen else (first, last)
    currencies = st.sidebar.multiselect(
        text("currencies", language), kinds.get("currency", []), placeholder=text("all", language)
    )
    banks = st.sidebar.multiselect(text("banks", language), kinds.get("bank", []), placeholder=text("all", language))
    return Filters(start=start, end=end, currencies=tuple(currencies), banks=tuple(banks))


def main() -> None:
    st.set_page_config(page_title="Importaú", page_icon="💼", layout="wide")
    language = _choice("lang", list(LANGUAGES), "pt")
    language = st.sidebar.selectbox(
        text("language", language), list(LANGUAGES), index=list(LANGUAGES).index(language), format_func=LANGUAGES.get
    )
    page = st.sidebar.radio(
        text("page", language),
        list(PAGES),
        index=list(PAGES).index(_choice("page", list(PAGES), "hoje")),
        format_func=lambda key: text(key, language),
    )
    st.query_params.update(page=page, lang=language)
    try:
        data = shared_data()
    except Exception as error:  # no snapshot yet, or the server refused: say so, do not show a traceback
        st.error(str(error))
        st.stop()
    filters = sidebar_filters(data, language)
    st.title(f"{text(page, language)} · {text('app_title', language)}")
    published = data.published_at
    st.caption(
        f"{text('data_as_of', language)} {formatting.day(published, language)} {published[11:16]} UTC"
        if published
        else text("server_live", language)
    )
    RENDERERS[page](Context(data=data, filters=filters, language=language))
    # The browser test and the load-time measurement wait for this marker: the page's script ran to the end.
    st.html(f'<div id="cockpit-ready" data-page="{page}"></div>')


if __name__ == "__main__":  # Streamlit and AppTest run the file as __main__; importing it runs nothing
    main()
