from . import matches, posting, search, talent

urlpatterns = [*search.urlpatterns, *matches.urlpatterns, *talent.urlpatterns, *posting.urlpatterns]
