"""Every plot of tuneful: figures drawn from what the analysis and the benchmarks computed.

matplotlib and plotly are an optional extra (``pip install 'tuneful[viz]'``), imported when a
figure is first drawn; without them, drawing raises
:class:`tuneful.errors.MissingDependencyError` naming the extra.

What lives where (in parentheses, what it imports):

- ``_figure`` what every figure shares: the lazy matplotlib import and its error, a blank
  figure, a colormap, saving as PNG or SVG (``errors``);
- ``bench`` the benchmark report's figures: critical differences, incumbent curves, rank over
  time, ECDF of final regret, and ``draw_report_figures`` (``bench.stats``, ``_figure``);
- ``scaling`` a scaling fit's figures: one grid's loss, the fitted law over the plateau runs
  (``analysis.scaling``, ``_figure``);
- ``study/`` the plots of a study (``pip install 'tuneful[viz]'``: plotly and matplotlib):
  ``plot(kind, studies)`` and one ``plot_<kind>`` per kind of ``study.KINDS``, each giving
  a ``StudyFigure`` (its data, ``to_plotly``, ``to_matplotlib``, ``to_json``, ``save`` as
  HTML, PNG or SVG); its own layering is in ``study/__init__`` (``analysis.trials``,
  ``analysis.progress``, ``analysis.front``, ``analysis.relevance``, ``analysis.surface``,
  ``analysis.importance``, ``records``, ``_figure``).

viz may import ``analysis``, ``bench``'s statistics and results, ``records`` and what lies
below them; nothing below it imports viz, except the writers at the top of a layer that put
figures into a document (``bench.report``) and the faces (``cli``). This package imports none
of its modules itself, so importing it never pulls in the benchmark harness: import them by
name (``from tuneful.viz import bench``).
"""
