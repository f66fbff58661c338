"""Search over content: the full-text index (`index`), the query and its ranking
(`query`), the statement that pages through results (`repository`), and `GET /search`.

`index` depends on the models alone, so the domains whose changes alter a document
(content, creators) keep it current without depending on the rest of search.
"""
