"""One module per cockpit page, each with `render(context)`; the app's menu lists them in `PAGES` order."""
