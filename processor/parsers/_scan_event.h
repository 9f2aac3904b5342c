/* Building `Event` objects (processor/parsers/event.py) from the compiled scanners.

   Events are built without running the dataclass __init__ (a Python frame per event): the
   object is allocated and its five slots filled in order, as __init__ would. It is then
   untracked by the cyclic GC: it holds a dict of strings, numbers and None, a datetime and a
   bool, so it can never be part of a cycle, and each collection after a feed would otherwise
   walk every event of the chunk. `event_bind` checks that the class still has exactly those
   five plain object slots; until it succeeds, `event_new` calls the class instead. */

#ifndef AURORA_SCAN_EVENT_H
#define AURORA_SCAN_EVENT_H

#include "Python.h"
#include "structmember.h"

static Py_ssize_t event_slot[5];
static PyTypeObject *event_type = NULL;

static PyObject *event_new(PyObject *cls, PyObject *start, PyObject *end,
                           PyObject *fields, PyObject *when) {
    PyObject *values[5] = {start, end, fields, when, Py_False};
    PyObject *obj;
    int i;
    if ((PyTypeObject *)cls != event_type) {
        return PyObject_CallFunctionObjArgs(cls, start, end, fields, when, Py_False, NULL);
    }
    obj = event_type->tp_alloc(event_type, 0);
    if (obj == NULL) {
        return NULL;
    }
    for (i = 0; i < 5; i++) {
        Py_INCREF(values[i]);
        *(PyObject **)((char *)obj + event_slot[i]) = values[i];
    }
    PyObject_GC_UnTrack(obj);
    return obj;
}

static int event_bind(PyObject *cls, PyObject *descriptors) {
    /* descriptors: the member descriptors of start, end, fields, event_time, parse_error */
    Py_ssize_t slot[5];
    Py_ssize_t i;
    if (!PyType_Check(cls) || PyTuple_GET_SIZE(descriptors) != 5) {
        return 0;
    }
    for (i = 0; i < 5; i++) {
        PyObject *d = PyTuple_GET_ITEM(descriptors, i);
        PyMemberDef *member;
        if (Py_TYPE(d) != &PyMemberDescr_Type) {
            return 0;
        }
        member = ((PyMemberDescrObject *)d)->d_member;
        if (member->type != T_OBJECT_EX) {
            return 0;
        }
        slot[i] = member->offset;
    }
    /* All checked: only now replace what the scanners use. */
    for (i = 0; i < 5; i++) {
        event_slot[i] = slot[i];
    }
    Py_INCREF(cls);  /* kept for the life of the process */
    Py_XDECREF((PyObject *)event_type);
    event_type = (PyTypeObject *)cls;
    return 1;
}

#endif
