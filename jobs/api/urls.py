from . import catalog, matches, posting, search, talent

urlpatterns = [
    *catalog.urlpatterns,
    *search.urlpatterns,
    *matches.urlpatterns,
    *talent.urlpatterns,
    *posting.urlpatterns,
]
