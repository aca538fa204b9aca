
Õ
 

service.name
svc

n°