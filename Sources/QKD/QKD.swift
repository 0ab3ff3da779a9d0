// QKD: placeholder until its issue lands.
