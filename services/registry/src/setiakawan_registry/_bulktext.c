/* The bulk import's rows in C: checking the common case, and the COPY text
 * of each household.
 *
 * import_chunks.ChunkBuilder.household_text is the definition of the text:
 * household() writes, byte for byte, what that Python method writes (its
 * households line, its members lines and its household.registered outbox
 * line). scan() checks the lines of a chunk for the households that the
 * rules (rules.rows, rules.households) would surely accept, and writes their
 * text the same way; every other line goes back to the Python rules (see
 * its comment below). A million-row import spends most of its CPU here, and
 * several times more in Python. The unit tests hold both methods to the
 * Python path, and every chunk of an import is still held to the HTTP path
 * (ChunkBuilder.check_against_reference). The module is optional: without a
 * C compiler the Python path does it all.
 *
 * Text reaches household() checked by rules.rows and scan() takes only
 * plain values (codes, enums and dates are ASCII; free text has no tab or
 * line break), so, as in Python, only a backslash in free text needs
 * escaping for COPY.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

typedef struct Rules Rules;

typedef struct {
    PyObject_HEAD
    char *head;            /* the ids' common start, "xxxxxxxx-xxxx-8" */
    Py_ssize_t head_n;
    char *agency_copy, *agency_json, *import_id, *exchange, *event_type, *dataschema, *source;
    int today_y, today_m, today_d, child_under, elderly_from;
    Buf household, members, event, json;
    Rules *rules;          /* scan()'s, once rules() is called */
} Writer;

static void rules_free(Rules *r);

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
    rules_free(self->rules);
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
                            "dataschema", "source", "today", "child_under", "elderly_from", NULL};
    PyObject *head, *agency_copy, *agency_json, *import_id, *exchange, *event_type, *dataschema, *source, *today;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UUUUUUUUO!ii", names, &head, &agency_copy, &agency_json,
                                     &import_id, &exchange, &event_type, &dataschema, &source,
                                     PyDateTimeAPI->DateType, &today, &self->child_under, &self->elderly_from))
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
    return 0;
}

static int
initialised(Writer *self)
{
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the Writer was not initialised");
        return 0;
    }
    return 1;
}

/* ---- one household's text, from the fields of its rows ------------------ */

typedef struct {
    const char *s;
    Py_ssize_t n;
} Slice;

#define SLICE_LIT(lit) ((Slice){(lit), (Py_ssize_t)(sizeof(lit) - 1)})

static int
same(Slice a, Slice b)
{
    return a.n == b.n && memcmp(a.s, b.s, a.n) == 0;
}

static int
is(Slice a, const char *lit)
{
    Py_ssize_t n = (Py_ssize_t)strlen(lit);
    return a.n == n && memcmp(a.s, lit, n) == 0;
}

typedef struct {
    Slice kk, street, rt, rw, village, choice[6], legal_basis, consent_date, recorded_by;
    long long income;
    Slice assets[16];
    int n_assets;
} HouseholdIn;

typedef struct {
    long long line;
    Slice nik, name, name_norm, sex, relationship, disability, occupation, education, phone;
    int by, bm, bd;
    char norm[256], e164[24];  /* the scanner's name_norm and phone live here */
} MemberIn;

/* A slice as a COPY value: with esc, each backslash doubled (COPY's text format). */
static int
put_slice(Buf *b, Slice v, int esc)
{
    if (!esc || memchr(v.s, '\\', v.n) == NULL)
        return put(b, v.s, v.n);
    if (grow(b, 2 * v.n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < v.n; i++) {
        b->p[b->n++] = v.s[i];
        if (v.s[i] == '\\')
            b->p[b->n++] = '\\';
    }
    return 0;
}

/* A COPY field and the tab after it; an empty value is NULL (\N) if null_if_empty. */
static int
field(Buf *b, Slice v, int esc, int null_if_empty)
{
    if (null_if_empty && v.n == 0) {
        if (PUT_LIT(b, "\\N") < 0)
            return -1;
    }
    else if (put_slice(b, v, esc) < 0)
        return -1;
    return PUT_LIT(b, "\t");
}

/* The three texts of one household into self->household, members, event. */
static int
write_household(Writer *self, const HouseholdIn *hh, MemberIn *members, Py_ssize_t size, Slice time_text,
                double score, long decile)
{
    long long first_line = members[0].line;
    char household_id[96];
    int household_id_n = snprintf(household_id, sizeof household_id, "%s100-8000-%012llx", self->head,
                                  (unsigned long long)first_line);
    Slice village = hh->village;
    char *score_text = PyOS_double_to_string(score, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (score_text == NULL)
        return -1;

    Buf *h = &self->household, *m = &self->members, *e = &self->event, *j = &self->json;
    h->n = m->n = e->n = j->n = 0;
    int failed = 0;
#define W(x) do { if ((x) < 0) { failed = 1; goto done; } } while (0)

    /* households */
    W(put(h, household_id, household_id_n));
    W(PUT_LIT(h, "\t"));
    W(field(h, hh->kk, 0, 0));
    W(field(h, hh->street, 1, 0));
    W(field(h, hh->rt, 0, 0));
    W(field(h, hh->rw, 0, 0));
    W(field(h, village, 0, 0));
    W(PUT_LIT(h, "{\"monthly_income\":"));
    W(put_ll(h, hh->income));
    static const char *choice_keys[] = {",\"floor\":\"", "\",\"wall\":\"", "\",\"roof\":\"",
                                        "\",\"electricity\":\"", "\",\"water\":\"", "\",\"sanitation\":\""};
    for (int i = 0; i < 6; i++) {
        W(put_c(h, choice_keys[i]));
        W(put_slice(h, hh->choice[i], 0));
    }
    W(PUT_LIT(h, "\",\"assets\":["));
    for (int i = 0; i < hh->n_assets; i++) {
        if (i)
            W(PUT_LIT(h, ","));
        W(PUT_LIT(h, "\""));
        W(put_slice(h, hh->assets[i], 0));
        W(PUT_LIT(h, "\""));
    }
    W(PUT_LIT(h, "]}\t"));
    W(put_c(h, score_text));
    W(PUT_LIT(h, "\t"));
    W(put_ll(h, decile));
    W(PUT_LIT(h, "\tregistered\t"));
    W(put_c(h, self->agency_copy));
    W(PUT_LIT(h, "\t"));
    W(field(h, hh->legal_basis, 0, 0));
    W(field(h, hh->consent_date, 0, 1));
    W(field(h, hh->recorded_by, 1, 1));
    W(put_c(h, self->import_id));
    W(PUT_LIT(h, "\n"));

    /* members, and their part of the event */
    long children = 0, elderly = 0, disabled = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        MemberIn *mem = &members[i];
        long age = self->today_y - mem->by
                   - (self->today_m < mem->bm || (self->today_m == mem->bm && self->today_d < mem->bd));
        children += age < self->child_under;
        elderly += age >= self->elderly_from;
        int has_disability = !is(mem->disability, "none");
        disabled += has_disability;
        char date_text[16];
        int date_n = snprintf(date_text, sizeof date_text, "%04d-%02d-%02d", mem->by, mem->bm, mem->bd);

        char member_id[96];
        int member_id_n = snprintf(member_id, sizeof member_id, "%s200-8000-%012llx", self->head,
                                   (unsigned long long)mem->line);
        W(put(m, member_id, member_id_n));
        W(PUT_LIT(m, "\t"));
        W(put(m, household_id, household_id_n));
        W(PUT_LIT(m, "\t"));
        W(field(m, mem->nik, 0, 0));
        W(field(m, mem->name, 1, 0));
        W(field(m, mem->name_norm, 0, 0));
        W(put(m, date_text, date_n));
        W(PUT_LIT(m, "\t"));
        W(field(m, mem->sex, 0, 0));
        W(field(m, mem->relationship, 0, 0));
        W(field(m, mem->disability, 0, 0));
        W(field(m, mem->occupation, 1, 0));
        W(field(m, mem->education, 0, 0));
        W(field(m, mem->phone, 0, 1));
        W(put(m, village.s, village.n < 5 ? village.n : 5));
        W(PUT_LIT(m, "\t"));
        W(put(m, village.s, village.n));
        W(PUT_LIT(m, "\n"));

        if (i)
            W(PUT_LIT(j, ","));
        W(PUT_LIT(j, "{\"person_ref\":\""));
        W(put(j, member_id, member_id_n));
        W(PUT_LIT(j, "\",\"age\":"));
        W(put_ll(j, age));
        W(PUT_LIT(j, ",\"sex\":\""));
        W(put_slice(j, mem->sex, 0));
        W(PUT_LIT(j, "\",\"relationship\":\""));
        W(put_slice(j, mem->relationship, 0));
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
    W(put_slice(e, time_text, 0));
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
    W(PUT_LIT(e, "\",\"version\":1,\"village_code\":\""));
    W(put(e, village.s, village.n));
    W(PUT_LIT(e, "\",\"district_code\":\""));
    W(put(e, village.s, village.n < 8 ? village.n : 8));
    W(PUT_LIT(e, "\",\"regency_code\":\""));
    W(put(e, village.s, village.n < 5 ? village.n : 5));
    W(PUT_LIT(e, "\",\"province_code\":\""));
    W(put(e, village.s, village.n < 2 ? village.n : 2));
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
    return failed ? -1 : 0;
}

static PyObject *
written(Writer *self)
{
    return Py_BuildValue("(y#y#y#)", self->household.p, self->household.n, self->members.p, self->members.n,
                         self->event.p, self->event.n);
}

/* ---- household(): from the (Household, Member) tuples of rules.rows ----- */

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
           && all_str(member, member_str, 9) && PyDate_Check(PyTuple_GET_ITEM(member, 4))
           && PyLong_Check(PyTuple_GET_ITEM(member, 0));
}

static int
slice_of(PyObject *o, Slice *out)
{
    out->s = PyUnicode_AsUTF8AndSize(o, &out->n);
    return out->s == NULL ? -1 : 0;
}

/* household(rows, time_text, score, decile) -> (household, members, event) as UTF-8 bytes */
static PyObject *
Writer_household(Writer *self, PyObject *args)
{
    PyObject *rows, *time_obj, *score;
    long decile;
    if (!initialised(self))
        return NULL;
    if (!PyArg_ParseTuple(args, "O!UO!l", &PyList_Type, &rows, &time_obj, &PyFloat_Type, &score, &decile))
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
    HouseholdIn hh;
    Slice time_text;
    PyObject *assets = PyTuple_GET_ITEM(indicators, 7);
    if (PyTuple_GET_SIZE(assets) > 16) {
        PyErr_SetString(PyExc_ValueError, "at most 16 assets");
        return NULL;
    }
    hh.n_assets = (int)PyTuple_GET_SIZE(assets);
    for (int i = 0; i < hh.n_assets; i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(assets, i))) {
            PyErr_SetString(PyExc_TypeError, "assets are str");
            return NULL;
        }
        if (slice_of(PyTuple_GET_ITEM(assets, i), &hh.assets[i]) < 0)
            return NULL;
    }
    for (int i = 0; i < 6; i++)
        if (slice_of(PyTuple_GET_ITEM(indicators, 1 + i), &hh.choice[i]) < 0)
            return NULL;
    hh.income = PyLong_AsLongLong(PyTuple_GET_ITEM(indicators, 0));
    if ((hh.income == -1 && PyErr_Occurred()) || slice_of(time_obj, &time_text) < 0
        || slice_of(PyTuple_GET_ITEM(first, 0), &hh.kk) < 0 || slice_of(PyTuple_GET_ITEM(first, 1), &hh.street) < 0
        || slice_of(PyTuple_GET_ITEM(first, 2), &hh.rt) < 0 || slice_of(PyTuple_GET_ITEM(first, 3), &hh.rw) < 0
        || slice_of(PyTuple_GET_ITEM(first, 4), &hh.village) < 0
        || slice_of(PyTuple_GET_ITEM(first, 6), &hh.legal_basis) < 0
        || slice_of(PyTuple_GET_ITEM(first, 7), &hh.consent_date) < 0
        || slice_of(PyTuple_GET_ITEM(first, 8), &hh.recorded_by) < 0)
        return NULL;
    MemberIn *members = PyMem_Malloc(sizeof(MemberIn) * size);
    if (members == NULL)
        return PyErr_NoMemory();
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *mem = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 1);
        MemberIn *out = &members[i];
        PyObject *born = PyTuple_GET_ITEM(mem, 4);
        out->line = PyLong_AsLongLong(PyTuple_GET_ITEM(mem, 0));
        if (out->line == -1 && PyErr_Occurred())
            goto done;
        out->by = PyDateTime_GET_YEAR(born);
        out->bm = PyDateTime_GET_MONTH(born);
        out->bd = PyDateTime_GET_DAY(born);
        if (slice_of(PyTuple_GET_ITEM(mem, 1), &out->nik) < 0 || slice_of(PyTuple_GET_ITEM(mem, 2), &out->name) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 3), &out->name_norm) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 5), &out->sex) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 6), &out->relationship) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 7), &out->disability) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 8), &out->occupation) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 9), &out->education) < 0
            || slice_of(PyTuple_GET_ITEM(mem, 10), &out->phone) < 0)
            goto done;
    }
    if (write_household(self, &hh, members, size, time_text, PyFloat_AS_DOUBLE(score), decile) == 0)
        result = written(self);
done:
    PyMem_Free(members);
    return result;
}

/* ---- scan(): the common case of rules.rows, in C ---------------------------
 *
 * rules.rows (with rules.households) is the definition of a valid row and
 * household. scan() accepts a household only when it can tell, with checks
 * stricter than those rules, that they would accept every one of its rows
 * with the same values (plain ASCII codes, no space to strip, the birth date
 * and sex written as the NIK encodes them, ...); everything else, valid or
 * not, goes back to the Python rules with its lines, so every refusal and its
 * message comes from them. Whether a region code exists is asked of the
 * Python rules once per code. The unit tests hold scan() and the Python path
 * to the same chunks, byte for byte, over fuzzed lists.
 */

typedef struct {
    PyObject *tuple;  /* the str values, kept alive for the slices */
    int n;
    Slice *items;
} Names;

static int
names_init(Names *x, PyObject *seq, const char *what)
{
    x->tuple = PySequence_Tuple(seq);
    if (x->tuple == NULL)
        return -1;
    x->n = (int)PyTuple_GET_SIZE(x->tuple);
    x->items = PyMem_Malloc(sizeof(Slice) * (x->n ? x->n : 1));
    if (x->items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < x->n; i++) {
        PyObject *o = PyTuple_GET_ITEM(x->tuple, i);
        if (!PyUnicode_Check(o) || !PyUnicode_IS_ASCII(o)) {
            PyErr_Format(PyExc_TypeError, "%s: ASCII str expected", what);
            return -1;
        }
        if (slice_of(o, &x->items[i]) < 0)
            return -1;
    }
    return 0;
}

static void
names_free(Names *x)
{
    Py_CLEAR(x->tuple);
    PyMem_Free(x->items);
    x->items = NULL;
}

static int
names_find(const Names *x, Slice v)
{
    for (int i = 0; i < x->n; i++)
        if (same(x->items[i], v))
            return i;
    return -1;
}

#define COLUMNS 25
#define HOUSEHOLD_COLUMNS 16
#define MAX_ASSETS 16

struct Rules {
    Names choices[6], assets, relationships, disabilities, education, legal_bases, sex_keys, sex_values;
    int order[COLUMNS];
    Py_ssize_t max_field, street_max, name_max, occupation_max, recorded_by_max;
    long long income_max;
    int max_members;
    PyObject *district_exists, *village_exists, *terms_of;
    unsigned char *districts;   /* by the code's six digits: 0 not asked yet, 1 a district, 2 not */
    uint64_t *villages;         /* open addressing: (ten digits << 1 | exists) + 1, 0 empty */
    size_t villages_cap, villages_n;
    int n_terms, income_index, n_cuts;
    double income_weight, income_scale, total, cuts[16];
    size_t combos;
    double *terms;              /* per combination of choices and assets: its n_terms terms */
    unsigned char *terms_known;
    MemberIn *members;          /* room for a household's rows */
};

static void
rules_free(Rules *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < 6; i++)
        names_free(&r->choices[i]);
    names_free(&r->assets);
    names_free(&r->relationships);
    names_free(&r->disabilities);
    names_free(&r->education);
    names_free(&r->legal_bases);
    names_free(&r->sex_keys);
    names_free(&r->sex_values);
    Py_CLEAR(r->district_exists);
    Py_CLEAR(r->village_exists);
    Py_CLEAR(r->terms_of);
    PyMem_Free(r->districts);
    PyMem_Free(r->villages);
    free(r->terms);
    free(r->terms_known);
    PyMem_Free(r->members);
    PyMem_Free(r);
}

static int
digits(Slice v)
{
    for (Py_ssize_t i = 0; i < v.n; i++)
        if (v.s[i] < '0' || v.s[i] > '9')
            return 0;
    return 1;
}

static int
two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

static int
real_date(int y, int m, int d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

static int
after_today(Writer *w, int y, int m, int d)
{
    if (y != w->today_y)
        return y > w->today_y;
    if (m != w->today_m)
        return m > w->today_m;
    return d > w->today_d;
}

/* rules.identity._birth_date's century: two-digit years up to this year's are 20xx */
static int
century(Writer *w, int yy)
{
    return yy <= w->today_y % 100 ? 2000 + yy : 1900 + yy;
}

/* 1 if the rules know the district of these six digits, 0 if not, -1 on error */
static int
district_known(Writer *w, const char *p)
{
    Rules *r = w->rules;
    long code = 0;
    for (int i = 0; i < 6; i++)
        code = code * 10 + (p[i] - '0');
    if (r->districts[code] == 0) {
        char text[9] = {p[0], p[1], '.', p[2], p[3], '.', p[4], p[5], 0};
        PyObject *answer = PyObject_CallFunction(r->district_exists, "s", text);
        if (answer == NULL)
            return -1;
        int yes = PyObject_IsTrue(answer);
        Py_DECREF(answer);
        if (yes < 0)
            return -1;
        r->districts[code] = yes ? 1 : 2;
    }
    return r->districts[code] == 1;
}

static int
villages_add(Rules *r, uint64_t entry)
{
    if (2 * (r->villages_n + 1) > r->villages_cap) {
        size_t cap = r->villages_cap ? 2 * r->villages_cap : 1 << 16;
        uint64_t *table = PyMem_Calloc(cap, sizeof(uint64_t));
        if (table == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i < r->villages_cap; i++) {
            uint64_t e = r->villages[i];
            if (e) {
                size_t at = (size_t)(((e - 1) >> 1) * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
                while (table[at])
                    at = (at + 1) & (cap - 1);
                table[at] = e;
            }
        }
        PyMem_Free(r->villages);
        r->villages = table;
        r->villages_cap = cap;
    }
    size_t at = (size_t)(((entry - 1) >> 1) * 0x9E3779B97F4A7C15ULL >> 20) & (r->villages_cap - 1);
    while (r->villages[at])
        at = (at + 1) & (r->villages_cap - 1);
    r->villages[at] = entry;
    r->villages_n++;
    return 0;
}

/* 1 if the rules know this village (PP.RR.DD.VVVV), 0 if not or not in that form, -1 on error */
static int
village_known(Writer *w, Slice v)
{
    Rules *r = w->rules;
    if (v.n != 13 || v.s[2] != '.' || v.s[5] != '.' || v.s[8] != '.')
        return 0;
    uint64_t code = 0;
    for (int i = 0; i < 13; i++) {
        if (i == 2 || i == 5 || i == 8)
            continue;
        if (v.s[i] < '0' || v.s[i] > '9')
            return 0;
        code = code * 10 + (uint64_t)(v.s[i] - '0');
    }
    if (r->villages_cap) {
        size_t at = (size_t)(code * 0x9E3779B97F4A7C15ULL >> 20) & (r->villages_cap - 1);
        for (uint64_t e; (e = r->villages[at]) != 0; at = (at + 1) & (r->villages_cap - 1))
            if ((e - 1) >> 1 == code)
                return (int)((e - 1) & 1);
    }
    PyObject *answer = PyObject_CallFunction(r->village_exists, "s#", v.s, v.n);
    if (answer == NULL)
        return -1;
    int yes = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    if (yes < 0 || villages_add(r, (code << 1 | (uint64_t)(yes ? 1 : 0)) + 1) < 0)
        return -1;
    return yes;
}

/* Free text that rules.rows keeps as it is: no control character, nothing
 * str.strip() would take off the ends, at most max bytes (so characters). */
static int
plain_text(Slice v, Py_ssize_t max)
{
    if (v.n > max)
        return 0;
    for (Py_ssize_t i = 0; i < v.n; i++) {
        unsigned char c = (unsigned char)v.s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    if (v.n) {
        unsigned char a = (unsigned char)v.s[0], z = (unsigned char)v.s[v.n - 1];
        if (a == ' ' || a > 0x7e || z == ' ' || z > 0x7e)
            return 0;
    }
    return 1;
}

/* An ISO date YYYY-MM-DD (the only form taken here) into y, m, d. */
static int
iso_date(Slice v, int *y, int *m, int *d)
{
    if (v.n != 10 || v.s[4] != '-' || v.s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (v.s[i] < '0' || v.s[i] > '9'))
            return 0;
    *y = two(v.s) * 100 + two(v.s + 2);
    *m = two(v.s + 5);
    *d = two(v.s + 8);
    return real_date(*y, *m, *d);
}

/* rules.identity.normalize_name of a plain ASCII name */
static void
normalize_name(Slice name, char *out, Py_ssize_t *out_n)
{
    Py_ssize_t o = 0;
    int space = 0;
    for (Py_ssize_t i = 0; i < name.n; i++) {
        char c = name.s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || c == '\'' || c == '.' || c == '-'))
            c = ' ';
        if (c == ' ') {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = 0;
        out[o++] = c;
    }
    *out_n = o;
}

/* Split a line on commas into exactly COLUMNS fields; 0 if it has another number. */
static int
split(const char *s, Py_ssize_t n, Slice *fields)
{
    int k = 0;
    const char *start = s, *end = s + n;
    for (const char *p = s;; p++) {
        if (p == end || *p == ',') {
            if (k == COLUMNS)
                return 0;
            fields[k].s = start;
            fields[k].n = p - start;
            k++;
            if (p == end)
                break;
            start = p + 1;
        }
    }
    return k == COLUMNS;
}

/* The household columns of a row (f in the file's order, through rules->order). */
static int
read_household(Writer *w, Slice *f, HouseholdIn *hh, int *choice_at, unsigned *assets_mask)
{
    Rules *r = w->rules;
    const int *o = r->order;
    int known = 0;
    hh->kk = f[o[0]];
    hh->street = f[o[1]];
    hh->rt = f[o[2]];
    hh->rw = f[o[3]];
    hh->village = f[o[4]];
    if (hh->kk.n != 16 || !digits(hh->kk) || (known = district_known(w, hh->kk.s)) <= 0)
        return known < 0 ? -1 : 0;
    if (!real_date(century(w, two(hh->kk.s + 10)), two(hh->kk.s + 8), two(hh->kk.s + 6)))
        return 0;
    if ((known = village_known(w, hh->village)) <= 0)
        return known;
    if (hh->rt.n > 3 || !digits(hh->rt) || hh->rw.n > 3 || !digits(hh->rw))
        return 0;
    Slice income = f[o[5]];
    if (income.n < 1 || income.n > 18 || !digits(income))
        return 0;
    hh->income = 0;
    for (Py_ssize_t i = 0; i < income.n; i++)
        hh->income = hh->income * 10 + (income.s[i] - '0');
    if (hh->income > r->income_max || !plain_text(hh->street, r->street_max))
        return 0;
    for (int i = 0; i < 6; i++) {
        choice_at[i] = names_find(&r->choices[i], f[o[6 + i]]);
        if (choice_at[i] < 0)
            return 0;
        hh->choice[i] = r->choices[i].items[choice_at[i]];
    }
    /* assets: items separated by ';', spaces around them and empty items ignored, sorted and unique */
    Slice assets = f[o[12]];
    unsigned mask = 0;
    const char *p = assets.s, *end = assets.s + assets.n;
    while (p <= end) {
        const char *q = memchr(p, ';', end - p);
        if (q == NULL)
            q = end;
        const char *a = p, *z = q;
        while (a < z && *a == ' ')
            a++;
        while (z > a && z[-1] == ' ')
            z--;
        if (z > a) {
            for (const char *c = a; c < z; c++)
                if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
                    return 0;
            int at = names_find(&r->assets, (Slice){a, z - a});
            if (at < 0)
                return 0;
            mask |= 1u << at;
        }
        p = q + 1;
    }
    hh->n_assets = 0;
    for (int i = 0; i < r->assets.n; i++)
        if (mask >> i & 1)
            hh->assets[hh->n_assets++] = r->assets.items[i];
    *assets_mask = mask;
    hh->legal_basis = f[o[13]];
    hh->consent_date = f[o[14]];
    hh->recorded_by = f[o[15]];
    if (names_find(&r->legal_bases, hh->legal_basis) < 0
        || !plain_text(hh->recorded_by, r->recorded_by_max))
        return 0;
    if (is(hh->legal_basis, "consent")) {
        int y, m, d;
        if (!iso_date(hh->consent_date, &y, &m, &d) || after_today(w, y, m, d) || hh->recorded_by.n == 0)
            return 0;
    }
    else if (hh->consent_date.n || hh->recorded_by.n)
        return 0;  /* consent details without consent: the Python rules decide */
    return 1;
}

static int
read_member(Writer *w, Slice *f, MemberIn *m)
{
    Rules *r = w->rules;
    const int *o = r->order;
    int known = 0;
    m->nik = f[o[16]];
    Slice nik = m->nik;
    if (nik.n != 16 || !digits(nik) || (known = district_known(w, nik.s)) <= 0)
        return known < 0 ? -1 : 0;
    if (nik.s[12] == '0' && nik.s[13] == '0' && nik.s[14] == '0' && nik.s[15] == '0')
        return 0;
    int day = two(nik.s + 6), female = day > 40;
    if (female)
        day -= 40;
    m->by = century(w, two(nik.s + 10));
    m->bm = two(nik.s + 8);
    m->bd = day;
    if (!real_date(m->by, m->bm, m->bd) || after_today(w, m->by, m->bm, m->bd))
        return 0;
    char born[32];
    snprintf(born, sizeof born, "%04d-%02d-%02d", m->by, m->bm, m->bd);
    int sex = names_find(&r->sex_keys, f[o[19]]);
    if (!is(f[o[18]], born) || sex < 0)
        return 0;
    m->sex = r->sex_values.items[sex];
    if (!is(m->sex, female ? "F" : "M"))
        return 0;
    /* the name: plain ASCII, nothing to strip */
    m->name = f[o[17]];
    if (m->name.n < 1 || m->name.n > r->name_max || m->name.n >= (Py_ssize_t)sizeof m->norm)
        return 0;
    for (Py_ssize_t i = 0; i < m->name.n; i++)
        if (m->name.s[i] < 0x20 || m->name.s[i] > 0x7e)
            return 0;
    if (m->name.s[0] == ' ' || m->name.s[m->name.n - 1] == ' ')
        return 0;
    normalize_name(m->name, m->norm, &m->name_norm.n);
    m->name_norm.s = m->norm;
    m->occupation = f[o[22]];
    if (!plain_text(m->occupation, r->occupation_max))
        return 0;
    m->relationship = f[o[20]];
    m->disability = f[o[21]].n ? f[o[21]] : SLICE_LIT("none");
    m->education = f[o[23]];
    if (names_find(&r->relationships, m->relationship) < 0 || names_find(&r->disabilities, m->disability) < 0
        || names_find(&r->education, m->education) < 0)
        return 0;
    /* the phone: rules.identity's plain mobile form, (+62|62|0)? 8 and 8 to 11 digits */
    Slice phone = f[o[24]];
    if (phone.n == 0) {
        m->phone = phone;
        return 1;
    }
    Slice rest = phone;
    if (phone.n >= 3 && memcmp(phone.s, "+62", 3) == 0)
        rest = (Slice){phone.s + 3, phone.n - 3};
    else if (phone.n >= 2 && memcmp(phone.s, "62", 2) == 0)
        rest = (Slice){phone.s + 2, phone.n - 2};
    else if (phone.n >= 1 && phone.s[0] == '0')
        rest = (Slice){phone.s + 1, phone.n - 1};
    if (rest.n < 9 || rest.n > 12 || rest.s[0] != '8' || !digits(rest))
        return 0;
    memcpy(m->e164, "+62", 3);
    memcpy(m->e164 + 3, rest.s, rest.n);
    m->phone = (Slice){m->e164, rest.n + 3};
    return 1;
}

/* WelfareModel.scorer's score: the terms of each combination of choices and
 * assets come from the model once; added up in the same order. */
static int
welfare(Writer *w, const int *choice_at, unsigned mask, long long income, Py_ssize_t size, double *score,
        long *decile)
{
    Rules *r = w->rules;
    size_t combo = 0;
    for (int i = 0; i < 6; i++)
        combo = combo * (size_t)r->choices[i].n + (size_t)choice_at[i];
    combo = (combo << r->assets.n) | mask;
    double *terms = r->terms + combo * (size_t)r->n_terms;
    if (!r->terms_known[combo]) {
        PyObject *choices = PyTuple_New(6), *assets = NULL, *got = NULL, *seq = NULL;
        int ok = 0;
        if (choices == NULL)
            return -1;
        for (int i = 0; i < 6; i++) {
            PyObject *name = PyTuple_GET_ITEM(r->choices[i].tuple, choice_at[i]);
            Py_INCREF(name);
            PyTuple_SET_ITEM(choices, i, name);
        }
        int n_assets = 0;
        for (int i = 0; i < r->assets.n; i++)
            n_assets += mask >> i & 1;
        if ((assets = PyTuple_New(n_assets)) == NULL)
            goto out;
        for (int i = 0, k = 0; i < r->assets.n; i++) {
            if (mask >> i & 1) {
                PyObject *name = PyTuple_GET_ITEM(r->assets.tuple, i);
                Py_INCREF(name);
                PyTuple_SET_ITEM(assets, k++, name);
            }
        }
        if ((got = PyObject_CallFunctionObjArgs(r->terms_of, choices, assets, NULL)) == NULL)
            goto out;
        if ((seq = PySequence_Fast(got, "terms are a sequence")) == NULL)
            goto out;
        if (PySequence_Fast_GET_SIZE(seq) != r->n_terms) {
            PyErr_SetString(PyExc_ValueError, "terms: one per weight");
            goto out;
        }
        for (int k = 0; k < r->n_terms; k++) {
            if (k == r->income_index)
                continue;
            terms[k] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, k));
            if (terms[k] == -1.0 && PyErr_Occurred())
                goto out;
        }
        r->terms_known[combo] = 1;
        ok = 1;
out:
        Py_XDECREF(choices);
        Py_XDECREF(assets);
        Py_XDECREF(got);
        Py_XDECREF(seq);
        if (!ok)
            return -1;
    }
    double per_person = (double)income / (double)(size > 1 ? size : 1) / r->income_scale;
    double income_term = r->income_weight * (per_person < 1.0 ? per_person : 1.0), sum = 0.0;
    for (int k = 0; k < r->n_terms; k++)
        sum += k == r->income_index ? income_term : terms[k];
    /* round(x, 2) as Python does it: correctly rounded decimal digits, read back */
    char *text = PyOS_double_to_string(100.0 * sum / r->total, 'f', 2, 0, NULL);
    if (text == NULL)
        return -1;
    *score = PyOS_string_to_double(text, NULL, NULL);
    PyMem_Free(text);
    if (*score == -1.0 && PyErr_Occurred())
        return -1;
    *decile = 1;
    for (int k = 0; k < r->n_cuts; k++)
        *decile += r->cuts[k] <= *score;
    return 0;
}

/* rules(**kw): what scan() checks rows against (see ChunkBuilder._scanner_rules) */
static PyObject *
Writer_rules(Writer *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"choices", "assets", "relationships", "disabilities", "education", "legal_bases",
                            "sexes", "order", "max_field", "street_max", "name_max", "occupation_max",
                            "recorded_by_max", "income_max", "max_members", "district_exists", "village_exists",
                            "terms_of", "income_index", "n_terms", "income_weight", "income_scale", "total",
                            "cut_points", NULL};
    PyObject *choices, *assets, *relationships, *disabilities, *education, *legal_bases, *sexes, *order, *cuts;
    PyObject *district_exists, *village_exists, *terms_of;
    Rules *r;
    if (!initialised(self))
        return NULL;
    if ((r = PyMem_Calloc(1, sizeof(Rules))) == NULL)
        return PyErr_NoMemory();
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOO!OnnnnnLiOOOiidddO", names, &choices, &assets,
                                     &relationships, &disabilities, &education, &legal_bases, &PyDict_Type, &sexes,
                                     &order, &r->max_field, &r->street_max, &r->name_max, &r->occupation_max,
                                     &r->recorded_by_max, &r->income_max, &r->max_members, &district_exists,
                                     &village_exists, &terms_of, &r->income_index, &r->n_terms, &r->income_weight,
                                     &r->income_scale, &r->total, &cuts))
        goto fail;
    r->district_exists = Py_NewRef(district_exists);
    r->village_exists = Py_NewRef(village_exists);
    r->terms_of = Py_NewRef(terms_of);
    PyObject *choice_seq = PySequence_Tuple(choices);
    if (choice_seq == NULL)
        goto fail;
    int bad = PyTuple_GET_SIZE(choice_seq) != 6;
    for (int i = 0; !bad && i < 6; i++)
        bad = names_init(&r->choices[i], PyTuple_GET_ITEM(choice_seq, i), "choices") < 0;
    Py_DECREF(choice_seq);
    if (bad) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "six lists of choices");
        goto fail;
    }
    PyObject *keys = PyDict_Keys(sexes), *values = PyDict_Values(sexes);
    bad = keys == NULL || values == NULL || names_init(&r->sex_keys, keys, "sexes") < 0
          || names_init(&r->sex_values, values, "sexes") < 0;
    Py_XDECREF(keys);
    Py_XDECREF(values);
    if (bad || names_init(&r->assets, assets, "assets") < 0
        || names_init(&r->relationships, relationships, "relationships") < 0
        || names_init(&r->disabilities, disabilities, "disabilities") < 0
        || names_init(&r->education, education, "education") < 0
        || names_init(&r->legal_bases, legal_bases, "legal_bases") < 0)
        goto fail;
    PyObject *order_seq = PySequence_Fast(order, "order is a sequence");
    if (order_seq == NULL)
        goto fail;
    bad = PySequence_Fast_GET_SIZE(order_seq) != COLUMNS;
    for (int i = 0; !bad && i < COLUMNS; i++) {
        long at = PyLong_AsLong(PySequence_Fast_GET_ITEM(order_seq, i));
        bad = at < 0 || at >= COLUMNS;
        r->order[i] = (int)at;
    }
    Py_DECREF(order_seq);
    if (bad) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "order: one position per column");
        goto fail;
    }
    PyObject *cut_seq = PySequence_Fast(cuts, "cut_points is a sequence");
    if (cut_seq == NULL)
        goto fail;
    r->n_cuts = (int)PySequence_Fast_GET_SIZE(cut_seq);
    bad = r->n_cuts > 16;
    for (int i = 0; !bad && i < r->n_cuts; i++) {
        r->cuts[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(cut_seq, i));
        bad = r->cuts[i] == -1.0 && PyErr_Occurred();
    }
    Py_DECREF(cut_seq);
    if (bad) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "at most 16 cut points");
        goto fail;
    }
    r->combos = (size_t)1 << r->assets.n;
    for (int i = 0; i < 6; i++)
        r->combos *= (size_t)(r->choices[i].n ? r->choices[i].n : 1);
    if (r->assets.n > MAX_ASSETS || r->combos > ((size_t)1 << 24) || r->n_terms < 1 || r->n_terms > 64
        || r->income_index < 0 || r->income_index >= r->n_terms || r->max_members < 1 || r->max_members > 10000
        || r->total <= 0) {
        PyErr_SetString(PyExc_ValueError, "rules out of the scanner's range");
        goto fail;
    }
    /* calloc: the pages of combinations never met are never touched */
    r->terms = calloc(r->combos * (size_t)r->n_terms, sizeof(double));
    r->terms_known = calloc(r->combos, 1);
    r->districts = PyMem_Calloc(1000000, 1);
    r->members = PyMem_Malloc(sizeof(MemberIn) * (size_t)r->max_members);
    if (r->terms == NULL || r->terms_known == NULL || r->districts == NULL || r->members == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    rules_free(self->rules);
    self->rules = r;
    Py_RETURN_NONE;
fail:
    rules_free(r);
    return NULL;
}

static const char *
line_text(PyObject *line, Py_ssize_t *n)
{
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "lines are str");
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(line, n);
}

/* The line without its line break; *simple if it has no quote or carriage
 * return left (one record, split on commas, as import_chunks._records does). */
static const char *
record_text(PyObject *line, Py_ssize_t *n, int *simple, Py_ssize_t *quotes)
{
    const char *s = line_text(line, n);
    if (s == NULL)
        return NULL;
    *quotes = 0;
    for (const char *p = s; (p = memchr(p, '"', *n - (p - s))) != NULL; p++)
        (*quotes)++;
    if (*n && s[*n - 1] == '\n')
        (*n)--;
    if (*n && s[*n - 1] == '\r')
        (*n)--;
    *simple = *quotes == 0 && memchr(s, '\r', *n) == NULL;
    return s;
}

static int
flush_slow(PyObject *units, Py_ssize_t *slow_from, Py_ssize_t to)
{
    if (*slow_from < 0)
        return 0;
    PyObject *unit = Py_BuildValue("(nn)", *slow_from, to);
    *slow_from = -1;
    if (unit == NULL)
        return -1;
    int failed = PyList_Append(units, unit);
    Py_DECREF(unit);
    return failed;
}

/* A run of lines with the same KK number: 1 if written, 0 if the Python rules decide, -1 on error. */
static int
household_run(Writer *self, PyObject *lines, Py_ssize_t from, Py_ssize_t to, long long first_line,
              Slice time_text, PyObject **unit)
{
    Rules *r = self->rules;
    Py_ssize_t size = to - from;
    if (size > r->max_members)
        return 0;
    Slice first[COLUMNS], f[COLUMNS];
    HouseholdIn hh;
    int choice_at[6], heads = 0, known;
    unsigned mask = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        Py_ssize_t n;
        int simple;
        Py_ssize_t quotes;
        const char *s = record_text(PyList_GET_ITEM(lines, from + i), &n, &simple, &quotes);
        if (s == NULL)
            return -1;
        if (!split(s, n, i ? f : first))
            return 0;
        Slice *row = i ? f : first;
        for (int k = 0; k < COLUMNS; k++)
            if (row[k].n > r->max_field)
                return 0;
        if (i == 0) {
            if ((known = read_household(self, first, &hh, choice_at, &mask)) <= 0)
                return known;
        }
        else {
            for (int k = 0; k < HOUSEHOLD_COLUMNS; k++)
                if (!same(f[r->order[k]], first[r->order[k]]))
                    return 0;
        }
        MemberIn *m = &r->members[i];
        m->line = first_line + from + i;
        if ((known = read_member(self, row, m)) <= 0)
            return known;
        heads += is(m->relationship, "head");
        for (Py_ssize_t k = 0; k < i; k++)
            if (same(r->members[k].nik, m->nik))
                return 0;
    }
    if (heads != 1)
        return 0;
    double score;
    long decile;
    if (welfare(self, choice_at, mask, hh.income, size, &score, &decile) < 0
        || write_household(self, &hh, r->members, size, time_text, score, decile) < 0)
        return -1;
    PyObject *niks = PyTuple_New(size);
    if (niks == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *nik = PyUnicode_FromStringAndSize(r->members[i].nik.s, r->members[i].nik.n);
        if (nik == NULL) {
            Py_DECREF(niks);
            return -1;
        }
        PyTuple_SET_ITEM(niks, i, nik);
    }
    PyObject *spans = PyTuple_New(size);
    if (spans == NULL) {
        Py_DECREF(niks);
        return -1;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *span = Py_BuildValue("(LL)", r->members[i].line, r->members[i].line);
        if (span == NULL) {
            Py_DECREF(niks);
            Py_DECREF(spans);
            return -1;
        }
        PyTuple_SET_ITEM(spans, i, span);
    }
    *unit = Py_BuildValue("(nns#s#NNy#y#y#)", from, to, hh.kk.s, hh.kk.n, hh.village.s, hh.village.n, niks, spans,
                          self->household.p, self->household.n, self->members.p, self->members.n,
                          self->event.p, self->event.n);
    return *unit == NULL ? -1 : 1;
}

/* scan(lines, first_line, time_text) -> units, in the order of the lines:
 * (from, to, kk, village, niks, spans, household, members, event) for a household
 * written here, (from, to) for lines left to the Python rules. */
static PyObject *
Writer_scan(Writer *self, PyObject *args)
{
    PyObject *lines, *time_obj;
    long long first_line;
    Slice time_text;
    if (!initialised(self) || !PyArg_ParseTuple(args, "O!LU", &PyList_Type, &lines, &first_line, &time_obj)
        || slice_of(time_obj, &time_text) < 0)
        return NULL;
    if (self->rules == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "scan() needs rules() first");
        return NULL;
    }
    Rules *r = self->rules;
    PyObject *units = PyList_New(0);
    if (units == NULL)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(lines), i = 0, slow_from = -1;
    while (i < count) {
        Py_ssize_t n, quotes;
        int simple;
        const char *s = record_text(PyList_GET_ITEM(lines, i), &n, &simple, &quotes);
        if (s == NULL)
            goto fail;
        if (!simple) {
            /* a quoted record may go on over the next lines: as far as its quotes pair */
            Py_ssize_t j = i + 1;
            while (quotes % 2 && j < count) {
                Py_ssize_t m, more;
                int ignored;
                if (record_text(PyList_GET_ITEM(lines, j), &m, &ignored, &more) == NULL)
                    goto fail;
                quotes += more;
                j++;
            }
            if (slow_from < 0)
                slow_from = i;
            i = j;
            continue;
        }
        /* the run of simple lines that start with the same KK number field */
        Slice fields[COLUMNS];
        if (!split(s, n, fields)) {
            if (slow_from < 0)
                slow_from = i;
            i++;
            continue;
        }
        Slice kk = fields[r->order[0]];
        Py_ssize_t j = i + 1;
        while (j < count) {
            Py_ssize_t m, more;
            int next_simple;
            const char *t = record_text(PyList_GET_ITEM(lines, j), &m, &next_simple, &more);
            if (t == NULL)
                goto fail;
            Slice next[COLUMNS];
            if (!next_simple || !split(t, m, next) || !same(next[r->order[0]], kk))
                break;
            j++;
        }
        PyObject *unit = NULL;
        int written = household_run(self, lines, i, j, first_line, time_text, &unit);
        if (written < 0)
            goto fail;
        if (written == 0) {
            if (slow_from < 0)
                slow_from = i;
        }
        else {
            int failed = flush_slow(units, &slow_from, i) < 0 || PyList_Append(units, unit) < 0;
            Py_DECREF(unit);
            if (failed)
                goto fail;
        }
        i = j;
    }
    if (flush_slow(units, &slow_from, count) < 0)
        goto fail;
    return units;
fail:
    Py_DECREF(units);
    return NULL;
}

static PyMethodDef Writer_methods[] = {
    {"household", (PyCFunction)Writer_household, METH_VARARGS,
     "household(rows, time_text, score, decile) -> (households line, members lines, outbox line), UTF-8"},
    {"rules", (PyCFunction)(void (*)(void))Writer_rules, METH_VARARGS | METH_KEYWORDS,
     "rules(**what scan() checks rows against)"},
    {"scan", (PyCFunction)Writer_scan, METH_VARARGS,
     "scan(lines, first_line, time_text) -> [(from, to, kk, village, niks, spans, household, members, event)"
     " or (from, to)]"},
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
