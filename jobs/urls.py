from .views import catalog, matches, posting, search, talent

app_name = "jobs"

# Order matters: fixed paths (search, feed, mine, new...) come before /jobs/<public_id>/.
urlpatterns = [
    *catalog.urlpatterns,
    *search.urlpatterns,
    *matches.urlpatterns,
    *talent.urlpatterns,
    *posting.urlpatterns,
]
