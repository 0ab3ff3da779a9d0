// QSMEvents: placeholder until its issue lands.
