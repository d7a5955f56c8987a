/* The COPY text of one imported household, written in C.
 *
 * import_chunks.ChunkBuilder.household_text is the definition: this module
 * writes, byte for byte, what that Python method writes (its households
 * line, its members lines and its household.registered outbox line), for
 * the 250,000 households of a million-row import, where building the text in
 * Python is half of a worker's time. The unit tests hold the two together
 * on every household of generated lists, and every chunk of an import is
 * still held to the HTTP path (ChunkBuilder.check_against_reference). The
 * module is optional: without a C compiler the Python method is used.
 *
 * Values arrive checked by rules.rows (codes, enums and dates are plain
 * ASCII; free text has no tab or line break), so, as in Python, only a
 * backslash in free text needs escaping for COPY.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

static int
grow(Buf *b, Py_ssize_t more)
{
    if (b->n + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more)
        cap *= 2;
    char *p = PyMem_Realloc(b->p, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int
put(Buf *b, const char *s, Py_ssize_t n)
{
    if (grow(b, n) < 0)
        return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

#define PUT_LIT(b, lit) put((b), (lit), (Py_ssize_t)(sizeof(lit) - 1))

static int
put_c(Buf *b, const char *s)
{
    return put(b, s, (Py_ssize_t)strlen(s));
}

/* A str as UTF-8; with esc, each backslash doubled (COPY's text format). */
static int
put_str(Buf *b, PyObject *o, int esc)
{
    Py_ssize_t n;
    const char *s;
    if (!PyUnicode_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "expected str");
        return -1;
    }
    s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == NULL)
        return -1;
    if (!esc || memchr(s, '\\', n) == NULL)
        return put(b, s, n);
    if (grow(b, 2 * n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        b->p[b->n++] = s[i];
        if (s[i] == '\\')
            b->p[b->n++] = '\\';
    }
    return 0;
}

/* The first n characters of an ASCII str (codes such as a village's). */
static int
put_prefix(Buf *b, PyObject *o, Py_ssize_t n)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(o, &len);
    if (s == NULL)
        return -1;
    return put(b, s, len < n ? len : n);
}

/* A COPY field and the tab after it; an empty str is NULL (\N) if null_if_empty. */
static int
field(Buf *b, PyObject *o, int esc, int null_if_empty)
{
    if (null_if_empty && PyUnicode_GET_LENGTH(o) == 0) {
        if (PUT_LIT(b, "\\N") < 0)
            return -1;
    }
    else if (put_str(b, o, esc) < 0)
        return -1;
    return PUT_LIT(b, "\t");
}

static int
put_ll(Buf *b, long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    return put(b, tmp, n);
}

static int
put_id(Buf *b, const char *head, Py_ssize_t head_n, const char *kind, long long line)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%s-8000-%012llx", kind, (unsigned long long)line);
    if (put(b, head, head_n) < 0)
        return -1;
    return put(b, tmp, n);
}

typedef struct {
    PyObject_HEAD
    char *head;            /* the ids' common start, "xxxxxxxx-xxxx-8" */
    Py_ssize_t head_n;
    char *agency_copy, *agency_json, *import_id, *exchange, *event_type, *dataschema, *source;
    int today_y, today_m, today_d, child_under, elderly_from;
    SHA256_CTX inner, outer;  /* HMAC-SHA256 states after the padded key */
    Buf household, members, event, json;
} Writer;

static void
Writer_dealloc(Writer *self)
{
    char **strings[] = {&self->head, &self->agency_copy, &self->agency_json, &self->import_id,
                        &self->exchange, &self->event_type, &self->dataschema, &self->source};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        PyMem_Free(*strings[i]);
    PyMem_Free(self->household.p);
    PyMem_Free(self->members.p);
    PyMem_Free(self->event.p);
    PyMem_Free(self->json.p);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static char *
copy_utf8(PyObject *o, Py_ssize_t *size)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == NULL)
        return NULL;
    char *p = PyMem_Malloc(n + 1);
    if (p == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(p, s, n + 1);
    if (size)
        *size = n;
    return p;
}

static int
Writer_init(Writer *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"head", "agency_copy", "agency_json", "import_id", "exchange", "event_type",
                            "dataschema", "source", "today", "child_under", "elderly_from", "secret", NULL};
    PyObject *head, *agency_copy, *agency_json, *import_id, *exchange, *event_type, *dataschema, *source, *today;
    const char *secret;
    Py_ssize_t secret_n;
    unsigned char key[64], pad[64];

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UUUUUUUUO!iiy#", names, &head, &agency_copy, &agency_json,
                                     &import_id, &exchange, &event_type, &dataschema, &source,
                                     PyDateTimeAPI->DateType, &today, &self->child_under, &self->elderly_from,
                                     &secret, &secret_n))
        return -1;
    if (self->head != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Writer is initialised once");
        return -1;
    }
    if (!(self->head = copy_utf8(head, &self->head_n)) || !(self->agency_copy = copy_utf8(agency_copy, NULL))
        || !(self->agency_json = copy_utf8(agency_json, NULL)) || !(self->import_id = copy_utf8(import_id, NULL))
        || !(self->exchange = copy_utf8(exchange, NULL)) || !(self->event_type = copy_utf8(event_type, NULL))
        || !(self->dataschema = copy_utf8(dataschema, NULL)) || !(self->source = copy_utf8(source, NULL)))
        return -1;
    self->today_y = PyDateTime_GET_YEAR(today);
    self->today_m = PyDateTime_GET_MONTH(today);
    self->today_d = PyDateTime_GET_DAY(today);

    /* as rules.matching.MatchKeys: a key longer than a block is hashed first */
    memset(key, 0, sizeof key);
    if (secret_n > 64)
        SHA256((const unsigned char *)secret, secret_n, key);
    else
        memcpy(key, secret, secret_n);
    for (int i = 0; i < 64; i++)
        pad[i] = key[i] ^ 0x36;
    SHA256_Init(&self->inner);
    SHA256_Update(&self->inner, pad, 64);
    for (int i = 0; i < 64; i++)
        pad[i] = key[i] ^ 0x5c;
    SHA256_Init(&self->outer);
    SHA256_Update(&self->outer, pad, 64);
    return 0;
}

/* HMAC-SHA256 of "<kind>:<number>" in lowercase hex, written into out[64]. */
static int
match_key(Writer *self, const char *kind, PyObject *number, char *out)
{
    static const char hex[] = "0123456789abcdef";
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(number, &n);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    if (s == NULL)
        return -1;
    ctx = self->inner;
    SHA256_Update(&ctx, kind, strlen(kind));
    SHA256_Update(&ctx, ":", 1);
    SHA256_Update(&ctx, s, n);
    SHA256_Final(digest, &ctx);
    ctx = self->outer;
    SHA256_Update(&ctx, digest, sizeof digest);
    SHA256_Final(digest, &ctx);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    return 0;
}

static PyObject *
Writer_match(Writer *self, PyObject *args)
{
    const char *kind;
    PyObject *number;
    char out[64];
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the Writer was not initialised");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "sU", &kind, &number) || match_key(self, kind, number, out) < 0)
        return NULL;
    return PyUnicode_FromStringAndSize(out, 64);
}

#define TRY(x) do { if ((x) < 0) return NULL; } while (0)

static int
all_str(PyObject *tuple, const int *at, int n)
{
    for (int i = 0; i < n; i++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(tuple, at[i])))
            return 0;
    return 1;
}

/* (Household, Member) as rules.rows makes them; the str fields are str */
static int
item_ok(PyObject *row)
{
    static const int household_str[] = {0, 1, 2, 3, 4, 6, 7, 8}, member_str[] = {1, 2, 3, 5, 6, 7, 8, 9, 10};
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 2)
        return 0;
    PyObject *household = PyTuple_GET_ITEM(row, 0), *member = PyTuple_GET_ITEM(row, 1);
    return PyTuple_Check(household) && PyTuple_GET_SIZE(household) == 9 && PyTuple_Check(member)
           && PyTuple_GET_SIZE(member) == 11 && all_str(household, household_str, 8)
           && all_str(member, member_str, 9);
}

/* household(rows, time_text, score, decile) -> (household, members, event) as UTF-8 bytes */
static PyObject *
Writer_household(Writer *self, PyObject *args)
{
    PyObject *rows, *time_text, *score;
    long decile;
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the Writer was not initialised");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!UO!l", &PyList_Type, &rows, &time_text, &PyFloat_Type, &score, &decile))
        return NULL;
    Py_ssize_t size = PyList_GET_SIZE(rows);
    if (size == 0) {
        PyErr_SetString(PyExc_ValueError, "a household has rows");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        if (!item_ok(PyList_GET_ITEM(rows, i))) {
            PyErr_SetString(PyExc_TypeError, "rows are (Household, Member) tuples");
            return NULL;
        }
    }
    PyObject *first = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, 0), 0);
    PyObject *indicators = PyTuple_GET_ITEM(first, 5);
    if (!PyTuple_Check(indicators) || PyTuple_GET_SIZE(indicators) != 8
        || !PyLong_Check(PyTuple_GET_ITEM(indicators, 0)) || !PyTuple_Check(PyTuple_GET_ITEM(indicators, 7))
        || !all_str(indicators, (const int[]){1, 2, 3, 4, 5, 6}, 6)) {
        PyErr_SetString(PyExc_TypeError, "indicators are (income, six choices, assets)");
        return NULL;
    }
    PyObject *village = PyTuple_GET_ITEM(first, 4);
    long long first_line = PyLong_AsLongLong(PyTuple_GET_ITEM(PyTuple_GET_ITEM(PyList_GET_ITEM(rows, 0), 1), 0));
    if (first_line == -1 && PyErr_Occurred())
        return NULL;
    char household_id[96], kk_match[64], nik_match[64];
    int household_id_n = snprintf(household_id, sizeof household_id, "%s100-8000-%012llx", self->head,
                                  (unsigned long long)first_line);
    TRY(match_key(self, "kk", PyTuple_GET_ITEM(first, 0), kk_match));
    char *score_text = PyOS_double_to_string(PyFloat_AS_DOUBLE(score), 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (score_text == NULL)
        return NULL;

    Buf *h = &self->household, *m = &self->members, *e = &self->event, *j = &self->json;
    h->n = m->n = e->n = j->n = 0;
    int failed = 0;
#define W(x) do { if ((x) < 0) { failed = 1; goto done; } } while (0)

    /* households */
    W(put(h, household_id, household_id_n));
    W(PUT_LIT(h, "\t"));
    W(field(h, PyTuple_GET_ITEM(first, 0), 0, 0));  /* kk_number */
    W(put(h, kk_match, 64));
    W(PUT_LIT(h, "\t"));
    W(field(h, PyTuple_GET_ITEM(first, 1), 1, 0));  /* street */
    W(field(h, PyTuple_GET_ITEM(first, 2), 0, 0));  /* rt */
    W(field(h, PyTuple_GET_ITEM(first, 3), 0, 0));  /* rw */
    W(field(h, village, 0, 0));
    W(PUT_LIT(h, "{\"monthly_income\":"));
    {
        long long income = PyLong_AsLongLong(PyTuple_GET_ITEM(indicators, 0));
        if (income == -1 && PyErr_Occurred()) {
            failed = 1;
            goto done;
        }
        W(put_ll(h, income));
    }
    static const char *choice_keys[] = {",\"floor\":\"", "\",\"wall\":\"", "\",\"roof\":\"",
                                        "\",\"electricity\":\"", "\",\"water\":\"", "\",\"sanitation\":\""};
    for (int i = 0; i < 6; i++) {
        W(put_c(h, choice_keys[i]));
        W(put_str(h, PyTuple_GET_ITEM(indicators, 1 + i), 0));
    }
    W(PUT_LIT(h, "\",\"assets\":["));
    {
        PyObject *assets = PyTuple_GET_ITEM(indicators, 7);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(assets); i++) {
            if (i)
                W(PUT_LIT(h, ","));
            W(PUT_LIT(h, "\""));
            W(put_str(h, PyTuple_GET_ITEM(assets, i), 0));
            W(PUT_LIT(h, "\""));
        }
    }
    W(PUT_LIT(h, "]}\t"));
    W(put_c(h, score_text));
    W(PUT_LIT(h, "\t"));
    W(put_ll(h, decile));
    W(PUT_LIT(h, "\tregistered\t"));
    W(put_c(h, self->agency_copy));
    W(PUT_LIT(h, "\t"));
    W(field(h, PyTuple_GET_ITEM(first, 6), 0, 0));  /* legal_basis */
    W(field(h, PyTuple_GET_ITEM(first, 7), 0, 1));  /* consent_date */
    W(field(h, PyTuple_GET_ITEM(first, 8), 1, 1));  /* consent_recorded_by */
    W(put_c(h, self->import_id));
    W(PUT_LIT(h, "\n"));

    /* members, and their part of the event */
    long children = 0, elderly = 0, disabled = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *mem = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 1);
        PyObject *born = PyTuple_GET_ITEM(mem, 4);
        if (!PyDate_Check(born)) {
            PyErr_SetString(PyExc_TypeError, "birth_date is a date");
            failed = 1;
            goto done;
        }
        long long line = PyLong_AsLongLong(PyTuple_GET_ITEM(mem, 0));
        if (line == -1 && PyErr_Occurred()) {
            failed = 1;
            goto done;
        }
        int by = PyDateTime_GET_YEAR(born), bm = PyDateTime_GET_MONTH(born), bd = PyDateTime_GET_DAY(born);
        long age = self->today_y - by
                   - (self->today_m < bm || (self->today_m == bm && self->today_d < bd));
        children += age < self->child_under;
        elderly += age >= self->elderly_from;
        PyObject *disability = PyTuple_GET_ITEM(mem, 7);
        int has_disability = PyUnicode_CompareWithASCIIString(disability, "none") != 0;
        disabled += has_disability;
        W(match_key(self, "nik", PyTuple_GET_ITEM(mem, 1), nik_match));
        char date_text[16];
        int date_n = snprintf(date_text, sizeof date_text, "%04d-%02d-%02d", by, bm, bd);
        PyObject *phone = PyTuple_GET_ITEM(mem, 10);

        char member_id[96];
        int member_id_n = snprintf(member_id, sizeof member_id, "%s200-8000-%012llx", self->head,
                                   (unsigned long long)line);
        W(put(m, member_id, member_id_n));
        W(PUT_LIT(m, "\t"));
        W(put(m, household_id, household_id_n));
        W(PUT_LIT(m, "\t"));
        W(field(m, PyTuple_GET_ITEM(mem, 1), 0, 0));  /* nik */
        W(put(m, nik_match, 64));
        W(PUT_LIT(m, "\t"));
        W(field(m, PyTuple_GET_ITEM(mem, 2), 1, 0));  /* name */
        W(field(m, PyTuple_GET_ITEM(mem, 3), 0, 0));  /* name_norm */
        W(put(m, date_text, date_n));
        W(PUT_LIT(m, "\t"));
        W(field(m, PyTuple_GET_ITEM(mem, 5), 0, 0));  /* sex */
        W(field(m, PyTuple_GET_ITEM(mem, 6), 0, 0));  /* relationship */
        W(field(m, disability, 0, 0));
        W(field(m, PyTuple_GET_ITEM(mem, 8), 1, 0));  /* occupation */
        W(field(m, PyTuple_GET_ITEM(mem, 9), 0, 0));  /* education */
        W(field(m, phone, 0, 1));
        W(put_prefix(m, village, 5));
        W(PUT_LIT(m, "\t"));
        W(put_str(m, village, 0));
        W(PUT_LIT(m, "\n"));

        if (i)
            W(PUT_LIT(j, ","));
        W(PUT_LIT(j, "{\"person_ref\":\""));
        W(put(j, member_id, member_id_n));
        W(PUT_LIT(j, "\",\"nik_match\":\""));
        W(put(j, nik_match, 64));
        W(PUT_LIT(j, "\",\"age\":"));
        W(put_ll(j, age));
        W(PUT_LIT(j, ",\"sex\":\""));
        W(put_str(j, PyTuple_GET_ITEM(mem, 5), 0));
        W(PUT_LIT(j, "\",\"relationship\":\""));
        W(put_str(j, PyTuple_GET_ITEM(mem, 6), 0));
        W(PUT_LIT(j, "\",\"disability\":"));
        if (has_disability)
            W(PUT_LIT(j, "true}"));
        else
            W(PUT_LIT(j, "false}"));
    }

    /* the outbox row of household.registered */
    W(put_id(e, self->head, self->head_n, "300", first_line));
    W(PUT_LIT(e, "\t"));
    W(put_c(e, self->exchange));
    W(PUT_LIT(e, "\t"));
    W(put_c(e, self->event_type));
    W(PUT_LIT(e, "\t"));
    W(put(e, household_id, household_id_n));
    W(PUT_LIT(e, "\t{\"ce-id\": \""));
    W(put_id(e, self->head, self->head_n, "300", first_line));
    W(PUT_LIT(e, "\", \"ce-source\": \""));
    W(put_c(e, self->source));
    W(PUT_LIT(e, "\", \"ce-type\": \""));
    W(put_c(e, self->event_type));
    W(PUT_LIT(e, "\", \"ce-specversion\": \"1.0\", \"ce-time\": \""));
    W(put_str(e, time_text, 0));
    W(PUT_LIT(e, "\", \"ce-subject\": \""));
    W(put(e, household_id, household_id_n));
    W(PUT_LIT(e, "\", \"ce-dataschema\": \""));
    W(put_c(e, self->dataschema));
    W(PUT_LIT(e, "\", \"ce-correlationid\": \""));
    W(put_c(e, self->import_id));
    W(PUT_LIT(e, "\", \"ce-agency\": "));
    W(put_c(e, self->agency_json));
    W(PUT_LIT(e, "}\tapplication/json\t{\"household\":{\"household_id\":\""));
    W(put(e, household_id, household_id_n));
    W(PUT_LIT(e, "\",\"version\":1,\"kk_match\":\""));
    W(put(e, kk_match, 64));
    W(PUT_LIT(e, "\",\"village_code\":\""));
    W(put_str(e, village, 0));
    W(PUT_LIT(e, "\",\"district_code\":\""));
    W(put_prefix(e, village, 8));
    W(PUT_LIT(e, "\",\"regency_code\":\""));
    W(put_prefix(e, village, 5));
    W(PUT_LIT(e, "\",\"province_code\":\""));
    W(put_prefix(e, village, 2));
    W(PUT_LIT(e, "\",\"status\":\"registered\",\"welfare_score\":"));
    W(put_c(e, score_text));
    W(PUT_LIT(e, ",\"decile\":"));
    W(put_ll(e, decile));
    W(PUT_LIT(e, ",\"size\":"));
    W(put_ll(e, size));
    W(PUT_LIT(e, ",\"children\":"));
    W(put_ll(e, children));
    W(PUT_LIT(e, ",\"elderly\":"));
    W(put_ll(e, elderly));
    W(PUT_LIT(e, ",\"disabled\":"));
    W(put_ll(e, disabled));
    W(PUT_LIT(e, ",\"registering_agency\":"));
    W(put_c(e, self->agency_json));
    W(PUT_LIT(e, ",\"members\":["));
    W(put(e, j->p, j->n));
    W(PUT_LIT(e, "]}}\n"));
#undef W

done:
    PyMem_Free(score_text);
    if (failed)
        return NULL;
    return Py_BuildValue("(y#y#y#)", h->p, h->n, m->p, m->n, e->p, e->n);
}

static PyMethodDef Writer_methods[] = {
    {"household", (PyCFunction)Writer_household, METH_VARARGS,
     "household(rows, time_text, score, decile) -> (households line, members lines, outbox line), UTF-8"},
    {"match", (PyCFunction)Writer_match, METH_VARARGS, "match(kind, number) -> HMAC-SHA256 match key (hex)"},
    {NULL}
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "setiakawan_registry._bulktext.Writer",
    .tp_basicsize = sizeof(Writer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Writes the COPY text of imported households (see import_chunks.ChunkBuilder.household_text).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Writer_init,
    .tp_dealloc = (destructor)Writer_dealloc,
    .tp_methods = Writer_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bulktext", "COPY text of imported households, in C.", -1, NULL,
};

PyMODINIT_FUNC
PyInit__bulktext(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL || PyType_Ready(&WriterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&WriterType);
    if (PyModule_AddObject(m, "Writer", (PyObject *)&WriterType) < 0) {
        Py_DECREF(&WriterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
