"""Component ids, in one place so layouts and callbacks agree."""

# shell
URL = "url"
PAGE = "page-content"
NOTICE = "url-notice"
HEADER_RELEASE = "header-release"
NAV = "main-nav"
