"""A live, read-only web page of a storage's studies (``tuneful dashboard``).

Served by Starlette (ASGI) under uvicorn, both from the ``dashboard`` extra
(``pip install 'tuneful[dashboard]'``), imported when the dashboard starts. The page is plain
JavaScript and CSS in ``static/`` with plotly.js taken from the installed ``plotly`` package:
no build step, no CDN, nothing fetched from the internet.

What lives where (in parentheses, what it imports):

- ``live`` the studies kept current from their event logs: one replica per study, refreshed
  with the events after the last one applied, at most once per interval; which trials
  changed since a version; summaries; caches (``analysis.trials``, ``storage``, ``space``,
  ``records``);
- ``table`` the trial table's filters, sort and pages, a trial's row and details as JSON
  (``records``, ``errors``);
- ``figures`` plots from ``viz.study`` and importance from ``analysis.importance``, kept
  until the studies change (``live``; ``viz``, ``analysis`` when asked);
- ``security`` loopback or token: the exposure check at start and the ASGI guard
  (``errors``);
- ``app`` the Starlette application: the page, its files, the JSON routes (``live``,
  ``table``, ``figures``, ``security``);
- ``server`` open read-only, bind, serve with uvicorn until Ctrl-C or SIGTERM (``app``,
  ``live``, ``security``, ``storage``);
- ``static/`` ``index.html``, ``app.js``, ``app.css``, ``favicon.svg``.

This layer sits beside ``cli`` at the top: it may import ``viz``, ``analysis``, the study's
layers and the storage; nothing imports it but ``cli``. This package imports none of its
modules itself: import them by name (``from tuneful.dashboard import server``).
"""
